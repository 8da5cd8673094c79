// GraphiQL at /graphql, every asset served by the Hedge server itself (no CDN).
// Authenticate with the header editor: {"Authorization": "Bearer <token>"}; WebSocket
// subscriptions take the same value from connection_init.
(function () {
  const url = window.location.href.split("?")[0].split("#")[0];
  const wsUrl = url.replace(/^http/, "ws");
  const fetcher = GraphiQL.createFetcher({
    url,
    subscriptionUrl: wsUrl,
    wsConnectionParams: function () {
      try {
        const saved = JSON.parse(localStorage.getItem("graphiql:headers") || "{}");
        return saved.Authorization ? { authorization: saved.Authorization } : {};
      } catch (e) {
        return {};
      }
    },
  });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();
  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher,
      plugins: [explorer],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      defaultHeaders: '{"Authorization": "Bearer <token>"}',
    }),
  );
})();
