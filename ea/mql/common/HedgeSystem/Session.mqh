//+------------------------------------------------------------------+
//| Session.mqh - the EA side of the protocol: connect and AUTH,     |
//| reconnect with backoff, route every command (Trader.mqh answers  |
//| them, Outbox.mqh delivers), stream PRICE, ACCOUNT and SYMBOLS.   |
//| Uses WebSocket.mqh, Trade.mqh and Lookup.mqh of its platform.    |
//| One source for MQL5 and MQL4 (ea/mql/common; hedge ea-install).  |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_SESSION_MQH
#define HEDGE_SYSTEM_SESSION_MQH

#include "Protocol.mqh"
#include "Messages.mqh"
#include "Symbols.mqh"
#include "WebSocket.mqh"
#include "Outbox.mqh"
#include "Trader.mqh"

#define HS_PING_EVERY_MS        10000
#define HS_SILENCE_LIMIT_MS     30000
#define HS_AUTH_LIMIT_MS        15000     // the agent may hold an AUTH for 10 s
#define HS_ACCOUNT_EVERY_MS     30000
#define HS_ACCOUNT_MIN_GAP_MS   1000      // "on change", but at most once a second
#define HS_SCAN_EVERY_MS        250
#define HS_BACKOFF_FIRST_MS     1000
#define HS_BACKOFF_MAX_MS       30000

enum ENUM_HS_LINK
  {
   HS_LINK_DOWN,            // not connected; next attempt at m_nextAttemptMs
   HS_LINK_AUTHENTICATING,  // AUTH sent, waiting for AUTH_OK
   HS_LINK_READY,           // AUTH_OK received; events flow
   HS_LINK_REPLACED         // another EA took this account over (close 4409); we stay down
  };

class CHsSession
  {
private:
   string            m_host;
   int               m_port;
   string            m_token;
   uint              m_timeoutMs;
   CHsWebSocket      m_ws;
   CHsOutbox         m_out;
   CHsSymbolMap      m_symbols;
   CHsTrader         m_trader;
   string            m_deferred[];          // SYNC/HISTORY frames held while an order is followed
   ENUM_HS_LINK      m_link;
   string            m_accountId;
   string            m_lastProblem;
   long              m_nextAttemptMs;
   int               m_backoffMs;
   long              m_authSentMs;
   long              m_lastReceivedMs;
   long              m_lastPingMs;
   long              m_pingId;
   string            m_subCanonical[];
   string            m_subBroker[];
   double            m_subBid[];
   double            m_subAsk[];
   long              m_lastAccountMs;
   string            m_lastAccountKey;
   long              m_lastScanMs;

   //--- Sends now or not at all (PRICE, ACCOUNT, SYMBOLS, PING, PONG: stale ones are worthless).
   void              SendLive(const string json)
     {
      if(m_link != HS_LINK_READY && m_link != HS_LINK_AUTHENTICATING)
         return;
      if(!m_ws.SendText(json))
         LinkLost("send failed: " + m_ws.LastError());
     }
   void              Flush(const long now)
     {
      if(m_link == HS_LINK_READY && !m_out.Flush(m_ws, now, m_lastReceivedMs))
         LinkLost("send failed: " + m_ws.LastError());
     }

   //--- Connection ------------------------------------------------------
   void              Connect(const long now)
     {
      if(!m_ws.Connect(m_host, m_port, m_timeoutMs))
        {
         m_lastProblem = m_ws.LastError();
         ScheduleRetry(now);
         return;
        }
      m_link = HS_LINK_AUTHENTICATING;
      m_authSentMs = now;
      m_lastReceivedMs = now;
      m_lastPingMs = now;
      SendLive(HsAuthMessage(m_token, HsPlatform(), HsMarginMode()));   // the first frame is always AUTH
     }
   void              ScheduleRetry(const long now)
     {
      m_nextAttemptMs = now + m_backoffMs + MathRand() % 500;
      m_backoffMs = (int)MathMin(m_backoffMs * 2, HS_BACKOFF_MAX_MS);
     }
   //--- Drops the link; what may not have arrived is queued again, in order, for the next one.
   void              LinkLost(const string why)
     {
      if(m_link == HS_LINK_DOWN || m_link == HS_LINK_REPLACED)
         return;
      int code = m_ws.CloseCode();
      m_ws.Disconnect(1000);
      m_lastProblem = why;
      Print("HedgeSystem: link to the agent lost: ", why);
      m_out.Requeue();
      if(code == 4409)
        {
         m_link = HS_LINK_REPLACED;
         m_lastProblem = "another EA connected for this account (4409); this one stays disconnected";
         Alert("HedgeSystemEA: ", m_lastProblem);
         return;
        }
      m_link = HS_LINK_DOWN;
      ScheduleRetry(HsNowMs());
     }

   //--- Commands ----------------------------------------------------------
   void              Handle(const string frame)
     {
      HsCommand cmd;
      string error = "";
      if(!HsParseCommand(frame, cmd, error))
        {
         if(m_out.IsAnswered(cmd.commandId))
            return;
         m_out.Answer(cmd.commandId, HsErrorMessage(HS_ERR_BAD_MESSAGE, error, cmd.commandId));
         return;
        }
      if(cmd.type == "PING")
        {
         SendLive(HsPingMessage("PONG", cmd.pingId));
         return;
        }
      if(cmd.type == "PONG")
         return;
      if(cmd.type == "AUTH_OK")
        {
         m_link = HS_LINK_READY;
         m_accountId = cmd.accountId;
         m_backoffMs = HS_BACKOFF_FIRST_MS;
         m_lastProblem = "";
         SendAccount(HsNowMs(), true);
         SendSymbols();
         return;
        }
      if(cmd.type == "AUTH_FAILED")
        {
         LinkLost("AUTH_FAILED: " + cmd.reason);
         return;
        }
      if(cmd.type == "SUBSCRIBE")
        {
         Subscribe(cmd.symbols);
         SendSymbols();
         return;
        }
      if(m_out.IsAnswered(cmd.commandId))
        {
         Print("HedgeSystem: commandId ", cmd.commandId, " was answered already; ignored");
         return;
        }
      if((cmd.type == "SYNC" || cmd.type == "HISTORY") && m_trader.Following())
        {
         HsPush(m_deferred, frame);          // answered once the followed order is settled
         return;
        }
      if(cmd.type == "OPEN")
         m_trader.Open(cmd);
      else if(cmd.type == "CLOSE")
         m_trader.Close(cmd);
      else if(cmd.type == "SYNC")
         m_trader.Sync(cmd.commandId);
      else if(cmd.type == "HISTORY")
         m_trader.History(cmd);
     }

   //--- SYMBOLS for the subscribed symbols (the chart's symbol before the first SUBSCRIBE).
   void              SendSymbols(void)
     {
      if(ArraySize(m_subBroker) > 0)
         SendLive(m_trader.SymbolsMessage(m_subBroker));
      else
        {
         string chart[1];
         chart[0] = _Symbol;
         SendLive(m_trader.SymbolsMessage(chart));
        }
     }

   void              Subscribe(const string &symbols[])
     {
      ArrayResize(m_subCanonical, 0);
      ArrayResize(m_subBroker, 0);
      for(int i = 0; i < ArraySize(symbols); i++)
        {
         string broker = m_symbols.Broker(symbols[i]);
         if(broker == "" || !SymbolSelect(broker, true))
           {
            Print("HedgeSystem: cannot stream ", symbols[i], ": no such symbol at this broker");
            continue;
           }
         HsPush(m_subCanonical, symbols[i]);
         HsPush(m_subBroker, broker);
        }
      int n = ArraySize(m_subBroker);
      ArrayResize(m_subBid, n);
      ArrayResize(m_subAsk, n);
      for(int i = 0; i < n; i++)
        {
         m_subBid[i] = 0.0;                 // so the current price goes out at once
         m_subAsk[i] = 0.0;
        }
     }

   //--- Periodic work ------------------------------------------------------
   void              StreamPrices(void)
     {
      for(int i = 0; i < ArraySize(m_subBroker) && m_link == HS_LINK_READY; i++)
        {
         MqlTick tick;
         if(!SymbolInfoTick(m_subBroker[i], tick) || tick.bid <= 0 || tick.ask <= 0)
            continue;
         if(tick.bid == m_subBid[i] && tick.ask == m_subAsk[i])
            continue;
         m_subBid[i] = tick.bid;
         m_subAsk[i] = tick.ask;
         SendLive(HsPriceMessage(m_subCanonical[i], HsPriceText(m_subBroker[i], tick.bid),
                                 HsPriceText(m_subBroker[i], tick.ask), HsTickTimeMs(tick)));
        }
     }

   void              SendAccount(const long now, const bool force)
     {
      string key = DoubleToString(AccountInfoDouble(ACCOUNT_BALANCE), 2) + "|"
                   + DoubleToString(AccountInfoDouble(ACCOUNT_CREDIT), 2) + "|"
                   + DoubleToString(AccountInfoDouble(ACCOUNT_EQUITY), 2) + "|"
                   + DoubleToString(AccountInfoDouble(ACCOUNT_MARGIN), 2);
      long age = now - m_lastAccountMs;
      if(!force && age < HS_ACCOUNT_EVERY_MS && (key == m_lastAccountKey || age < HS_ACCOUNT_MIN_GAP_MS))
         return;
      m_lastAccountKey = key;
      m_lastAccountMs = now;
      SendLive(HsAccountMessage(now));
     }

public:
                     CHsSession(void) : m_link(HS_LINK_DOWN), m_nextAttemptMs(0), m_backoffMs(HS_BACKOFF_FIRST_MS),
                                        m_pingId(0), m_lastAccountMs(0), m_lastScanMs(0) {}

   void              Init(const string host, const int port, const string token, const uint timeoutMs,
                          const string symbolPrefix, const string symbolSuffix, const string journalFile)
     {
      m_host = host;
      m_port = port;
      m_token = token;
      m_timeoutMs = timeoutMs;
      MathSrand((int)(GetTickCount() ^ (uint)TimeLocal()));
      m_symbols.Init(symbolPrefix, symbolSuffix);
      m_trader.Init(GetPointer(m_out), GetPointer(m_symbols), journalFile);
     }

   void              OnTimer(void)
     {
      long now = HsNowMs();
      HsNoteTick();
      if(m_link == HS_LINK_DOWN && now >= m_nextAttemptMs)
         Connect(now);
      if(m_link == HS_LINK_AUTHENTICATING || m_link == HS_LINK_READY)
        {
         string frames[];
         bool alive = m_ws.Poll(frames);
         if(ArraySize(frames) > 0)
            m_lastReceivedMs = now;
         for(int i = 0; i < ArraySize(frames) && m_link != HS_LINK_DOWN && m_link != HS_LINK_REPLACED; i++)
            Handle(frames[i]);
         if(!alive)
            LinkLost(m_ws.LastError());
        }
      if(m_link == HS_LINK_AUTHENTICATING && now - m_authSentMs > HS_AUTH_LIMIT_MS)
         LinkLost("no AUTH_OK within " + IntegerToString(HS_AUTH_LIMIT_MS / 1000) + " s");
      if(m_link == HS_LINK_READY)
        {
         StreamPrices();
         SendAccount(now, false);
         if(now - m_lastPingMs >= HS_PING_EVERY_MS)
           {
            m_lastPingMs = now;
            SendLive(HsPingMessage("PING", ++m_pingId));
           }
         if(now - m_lastReceivedMs > HS_SILENCE_LIMIT_MS)
            LinkLost("agent silent for 30 s");
        }
      if(m_trader.Following())
         m_trader.FollowUp(now);
      if(!m_trader.Following() && ArraySize(m_deferred) > 0)
        {
         string frames[];
         ArrayCopy(frames, m_deferred);
         ArrayResize(m_deferred, 0);
         for(int i = 0; i < ArraySize(frames); i++)
            Handle(frames[i]);
        }
      if(now - m_lastScanMs >= HS_SCAN_EVERY_MS)
        {
         m_lastScanMs = now;
         m_trader.ScanStops();
        }
      Flush(now);
     }

   //--- Trade events (MQL5 OnTrade) make the stop scan run at once instead of within 250 ms.
   void              OnTradeEvent(void)
     {
      m_trader.ScanStops();
      Flush(HsNowMs());
     }

   void              OnTick(void)
     {
      HsNoteTick();
      if(m_link == HS_LINK_READY)
         StreamPrices();
     }

   void              Shutdown(void)
     {
      m_ws.Disconnect(1000);
      m_link = HS_LINK_DOWN;
     }

   string            Status(void)
     {
      string state = m_link == HS_LINK_READY ? "connected, account " + m_accountId
                     : m_link == HS_LINK_AUTHENTICATING ? "authenticating"
                     : m_link == HS_LINK_REPLACED ? "replaced by another EA"
                     : "disconnected";
      return "HedgeSystemEA " + HS_EA_VERSION + " -> " + m_host + ":" + IntegerToString(m_port) + ": " + state
             + ", queued events " + IntegerToString(m_out.Pending())
             + (m_lastProblem != "" ? "\nlast problem: " + m_lastProblem : "");
     }
  };

#endif
