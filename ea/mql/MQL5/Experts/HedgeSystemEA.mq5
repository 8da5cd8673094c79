//+------------------------------------------------------------------+
//| HedgeSystemEA.mq5 - connects this MetaTrader 5 account to the    |
//| Hedge System agent on this PC (EA protocol, docs/ea-protocol.md) |
//| and carries out its OPEN / CLOSE / SYNC / HISTORY / SUBSCRIBE.   |
//| Trades on hedging accounts; needs the agent's address in Tools > |
//| Options > Expert Advisors > "Allow WebRequest for listed URL".   |
//+------------------------------------------------------------------+
#property copyright   "Hedge System"
#property version     "1.10"
#property description "Hedge System EA: WebSocket link to the local Hedge System agent."

#include <HedgeSystem\Session.mqh>

input string InpAgentHost        = "127.0.0.1";  // Agent host (loopback)
input int    InpAgentPort        = 8080;         // Agent port
input string InpEaToken          = "";           // EA token (from the agent's settings)
input long   InpMagicNumber      = 7077001;      // Magic number of our orders
input int    InpDeviationPoints  = 10;           // Max deviation from the quoted price, points
input string InpSymbolPrefix     = "";           // Broker symbol prefix (e.g. "#")
input string InpSymbolSuffix     = "";           // Broker symbol suffix (e.g. ".m")
input int    InpTimerMs          = 50;           // Poll period, ms (prices of subscribed symbols)
input int    InpConnectTimeoutMs = 3000;         // Connect/handshake timeout, ms

CHsSession g_session;
bool       g_started = false;
uint       g_lastStatusTick = 0;

//--- Starts the session once the terminal knows the account (at start-up it may not yet).
bool StartSession(void)
  {
   long login = AccountInfoInteger(ACCOUNT_LOGIN);
   if(login == 0)
      return false;
   g_session.Init(InpAgentHost, InpAgentPort, InpEaToken, (uint)InpConnectTimeoutMs,
                  InpSymbolPrefix, InpSymbolSuffix, "HedgeSystem_" + IntegerToString(login) + ".journal");
   g_started = true;
   return true;
  }

int OnInit(void)
  {
   if(InpEaToken == "")
     {
      Alert("HedgeSystemEA: set the EA token input (copy it from the Hedge System agent).");
      return INIT_PARAMETERS_INCORRECT;
     }
   if(InpAgentPort <= 0 || InpAgentPort > 65535 || InpTimerMs < 10 || InpDeviationPoints < 0)
     {
      Alert("HedgeSystemEA: port must be 1-65535, timer >= 10 ms, deviation >= 0.");
      return INIT_PARAMETERS_INCORRECT;
     }
   string why = "";
   if(!HsAccountCheck(why))                      // a netting account: connects, says so, trades nothing
      Alert("HedgeSystemEA: ", why);
   HsTradeSetup(InpMagicNumber, InpDeviationPoints);
   if(!EventSetMillisecondTimer(InpTimerMs))
     {
      Alert("HedgeSystemEA: cannot start the timer, error ", GetLastError());
      return INIT_FAILED;
     }
   StartSession();
   return INIT_SUCCEEDED;
  }

void OnDeinit(const int reason)
  {
   EventKillTimer();
   if(g_started)
      g_session.Shutdown();
   Comment("");
  }

void OnTimer(void)
  {
   if(!g_started && !StartSession())
      return;
   g_session.OnTimer();
   if(GetTickCount() - g_lastStatusTick >= 1000)
     {
      g_lastStatusTick = GetTickCount();
      Comment(g_session.Status());
     }
  }

//--- OnTick covers only the chart symbol; the timer streams every subscribed symbol.
void OnTick(void)
  {
   if(g_started)
      g_session.OnTick();
  }

void OnTrade(void)
  {
   if(g_started)
      g_session.OnTradeEvent();
  }
