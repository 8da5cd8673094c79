//+------------------------------------------------------------------+
//| Session.mqh - the EA side of the protocol: connect and AUTH,     |
//| reconnect with backoff, answer every command once, stream PRICE  |
//| and ACCOUNT, report STOPPED, and keep undelivered events queued. |
//| Uses WebSocket.mqh and Trade.mqh of its own platform folder.     |
//| Shared verbatim by MQL5 and MQL4 (the drift test checks that).   |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_SESSION_MQH
#define HEDGE_SYSTEM_SESSION_MQH

#include "Protocol.mqh"
#include "Journal.mqh"
#include "Symbols.mqh"
#include "WebSocket.mqh"
#include "Trade.mqh"

#define HS_PING_EVERY_MS        10000
#define HS_SILENCE_LIMIT_MS     30000
#define HS_AUTH_LIMIT_MS        15000     // the agent may hold an AUTH for 10 s
#define HS_ACCOUNT_EVERY_MS     30000
#define HS_ACCOUNT_MIN_GAP_MS   1000      // "on change", but at most once a second
#define HS_SCAN_EVERY_MS        250
#define HS_BACKOFF_FIRST_MS     1000
#define HS_BACKOFF_MAX_MS       30000
#define HS_OUTBOX_LIMIT         10000
#define HS_RESEND_WINDOW_MS     35000
#define HS_ANSWERED_MEMORY      2048

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
   CHsJournal        m_journal;
   CHsSymbolMap      m_symbols;
   ENUM_HS_LINK      m_link;
   string            m_accountId;
   string            m_lastProblem;
   long              m_nextAttemptMs;
   int               m_backoffMs;
   long              m_authSentMs;
   long              m_lastReceivedMs;
   long              m_lastPingMs;
   long              m_pingId;
   string            m_outbox[];            // events the agent must get, oldest first
   string            m_sent[];              // sent lately; sent again after a reconnect
   long              m_sentAt[];
   string            m_answered[];          // commandIds answered (ring)
   int               m_answeredNext;
   string            m_subCanonical[];
   string            m_subBroker[];
   double            m_subBid[];
   double            m_subAsk[];
   long              m_lastAccountMs;
   string            m_lastAccountKey;
   long              m_lastScanMs;

   //--- Queues ----------------------------------------------------------
   void              Push(string &list[], const string item)
     {
      int n = ArraySize(list);
      ArrayResize(list, n + 1, 64);
      list[n] = item;
     }
   void              RemoveFirst(string &list[], const int count)
     {
      int n = ArraySize(list);
      for(int i = count; i < n; i++)
         list[i - count] = list[i];
      ArrayResize(list, (int)MathMax(n - count, 0));
     }
   void              Enqueue(const string json)
     {
      if(ArraySize(m_outbox) >= HS_OUTBOX_LIMIT)
        {
         Print("HedgeSystem: event queue full, dropping the oldest event: ", m_outbox[0]);
         RemoveFirst(m_outbox, 1);
        }
      Push(m_outbox, json);
     }
   bool              IsAnswered(const string commandId)
     {
      for(int i = 0; i < ArraySize(m_answered); i++)
         if(m_answered[i] == commandId)
            return true;
      return false;
     }
   //--- Every command's single answer goes through here.
   void              Answer(const string commandId, const string json)
     {
      if(commandId != "")
        {
         if(ArraySize(m_answered) < HS_ANSWERED_MEMORY)
            Push(m_answered, commandId);
         else
           {
            m_answered[m_answeredNext] = commandId;
            m_answeredNext = (m_answeredNext + 1) % HS_ANSWERED_MEMORY;
           }
        }
      Enqueue(json);
     }
   //--- Sends now or not at all (PRICE, ACCOUNT, PING, PONG: stale ones are worthless).
   void              SendLive(const string json)
     {
      if(m_link != HS_LINK_READY && m_link != HS_LINK_AUTHENTICATING)
         return;
      if(!m_ws.SendText(json))
         LinkLost("send failed: " + m_ws.LastError());
     }
   void              Flush(const long now)
     {
      int sent = 0;
      while(m_link == HS_LINK_READY && sent < ArraySize(m_outbox))
        {
         if(!m_ws.SendText(m_outbox[sent]))
           {
            RemoveFirst(m_outbox, sent);
            LinkLost("send failed: " + m_ws.LastError());
            return;
           }
         Push(m_sent, m_outbox[sent]);
         int n = ArraySize(m_sentAt);
         ArrayResize(m_sentAt, n + 1, 64);
         m_sentAt[n] = now;
         sent++;
        }
      RemoveFirst(m_outbox, sent);
      //--- Forget sent events once the agent has spoken after them and they are old.
      int old = 0;
      while(old < ArraySize(m_sentAt) && now - m_sentAt[old] > HS_RESEND_WINDOW_MS
            && m_lastReceivedMs > m_sentAt[old])
         old++;
      if(old > 0)
        {
         RemoveFirst(m_sent, old);
         int n = ArraySize(m_sentAt);
         for(int i = old; i < n; i++)
            m_sentAt[i - old] = m_sentAt[i];
         ArrayResize(m_sentAt, n - old);
        }
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
      SendLive(HsAuthMessage(m_token, HsPlatform()));   // the first frame is always AUTH
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
      string pending[];
      ArrayResize(pending, 0);
      for(int i = 0; i < ArraySize(m_sent); i++)
         Push(pending, m_sent[i]);
      for(int i = 0; i < ArraySize(m_outbox); i++)
         Push(pending, m_outbox[i]);
      ArrayResize(m_outbox, 0);
      for(int i = 0; i < ArraySize(pending); i++)
         Push(m_outbox, pending[i]);
      ArrayResize(m_sent, 0);
      ArrayResize(m_sentAt, 0);
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
         if(cmd.commandId != "" && IsAnswered(cmd.commandId))
            return;
         Answer(cmd.commandId, HsErrorMessage(HS_ERR_BAD_MESSAGE, error, cmd.commandId));
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
         return;
        }
      if(IsAnswered(cmd.commandId))
        {
         Print("HedgeSystem: commandId ", cmd.commandId, " was answered already; ignored");
         return;
        }
      if(cmd.type == "OPEN")
         HandleOpen(cmd);
      else if(cmd.type == "CLOSE")
         HandleClose(cmd);
      else if(cmd.type == "SYNC")
         HandleSync(cmd.commandId);
     }

   void              ClearFill(HsFill &fill)
     {
      fill.ticket = "";
      fill.brokerSymbol = "";
      fill.price = "";
      fill.timeMs = 0;
      fill.profit = "0.00";
      fill.reason = "";
      fill.errorCode = HS_ERR_UNKNOWN;
      fill.message = "";
     }

   void              HandleOpen(HsCommand &cmd)
     {
      string comment = HsCommentFor(cmd.positionId);
      int j = m_journal.FindByPositionId(cmd.positionId);
      if(j >= 0)
        {
         Answer(cmd.commandId, HsOpenedSuccess(cmd.commandId, cmd.positionId, m_journal.Ticket(j),
                                               m_journal.OpenPrice(j), m_journal.OpenTimeMs(j)));
         return;
        }
      HsOpenRow row;
      if(HsFindOpenByComment(comment, row))
        {
         m_journal.RecordOpen(row.ticket, cmd.positionId, cmd.symbol, row.side,
                              HsVolumeText(row.brokerSymbol, row.volume), row.openPrice, row.openTimeMs);
         Answer(cmd.commandId, HsOpenedSuccess(cmd.commandId, cmd.positionId, row.ticket, row.openPrice,
                                               row.openTimeMs));
         return;
        }
      string broker = m_symbols.Broker(cmd.symbol);
      if(broker == "" || !SymbolSelect(broker, true))
        {
         Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, HS_ERR_INVALID_SYMBOL,
                                              "symbol " + cmd.symbol + " is not offered by this broker"));
         return;
        }
      string problem = HsVolumeProblem(broker, cmd.volume);
      if(problem != "")
        {
         Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, HS_ERR_INVALID_VOLUME, problem));
         return;
        }
      HsFill fill;
      ClearFill(fill);
      if(!HsOpenMarket(broker, cmd.side == "BUY", cmd.volume, comment, fill))
        {
         Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, fill.errorCode, fill.message));
         return;
        }
      m_journal.RecordOpen(fill.ticket, cmd.positionId, cmd.symbol, cmd.side, HsVolumeText(broker, cmd.volume),
                           fill.price, fill.timeMs);
      Answer(cmd.commandId, HsOpenedSuccess(cmd.commandId, cmd.positionId, fill.ticket, fill.price, fill.timeMs));
     }

   void              HandleClose(HsCommand &cmd)
     {
      string ticket = cmd.mtTicket;
      int j = m_journal.FindByTicket(ticket);
      string owner = j >= 0 ? m_journal.PositionId(j) : OwnerFromComment(ticket);
      if(owner != "" && owner != cmd.positionId)
        {
         Answer(cmd.commandId, HsClosedFailed(cmd.commandId, cmd.positionId, ticket, HS_ERR_UNKNOWN,
                                              "ticket " + ticket + " belongs to position " + owner));
         return;
        }
      if(j >= 0 && m_journal.IsClosed(j))
        {
         Answer(cmd.commandId, HsClosedSuccess(cmd.commandId, cmd.positionId, ticket, m_journal.ClosePrice(j),
                                               m_journal.CloseTimeMs(j), m_journal.Profit(j)));
         return;
        }
      HsFill fill;
      ClearFill(fill);
      bool done = HsIsOpen(ticket) ? HsCloseTicket(ticket, fill) : HsClosedSummary(ticket, fill);
      if(!done)
        {
         if(fill.message == "")
            fill.message = "ticket " + ticket + " is neither open nor in the account history";
         Answer(cmd.commandId, HsClosedFailed(cmd.commandId, cmd.positionId, ticket, fill.errorCode,
                                              fill.message));
         return;
        }
      m_journal.RecordClose(ticket, fill.price, fill.timeMs, fill.profit, "AGENT");
      Answer(cmd.commandId, HsClosedSuccess(cmd.commandId, cmd.positionId, ticket, fill.price, fill.timeMs,
                                            fill.profit));
     }

   //--- The positionId an open position's comment names ("" when not ours or not open).
   string            OwnerFromComment(const string ticket)
     {
      HsOpenRow row;
      if(!HsOpenInfo(ticket, row))
         return "";
      return FullId(HsIdFromComment(row.comment));
     }
   string            FullId(const string commentId)
     {
      if(commentId == "")
         return "";
      string full = m_journal.PositionIdForShortId(commentId);
      return full != "" ? full : commentId;
     }

   void              HandleSync(const string commandId)
     {
      HsOpenRow rows[];
      int count = HsListOpen(rows);
      string items[];
      string seen[];
      for(int i = 0; i < count; i++)
        {
         int j = m_journal.FindByTicket(rows[i].ticket);
         string positionId = j >= 0 ? m_journal.PositionId(j) : FullId(HsIdFromComment(rows[i].comment));
         if(positionId == "")
            continue;                      // our magic, but a comment the broker rewrote and no journal
         string symbol = j >= 0 ? m_journal.Symbol(j) : m_symbols.Canonical(rows[i].brokerSymbol);
         Push(items, HsPositionItem(positionId, rows[i].ticket, symbol, rows[i].side,
                                    HsVolumeText(rows[i].brokerSymbol, rows[i].volume), rows[i].openPrice,
                                    rows[i].openTimeMs, rows[i].profit));
         Push(seen, rows[i].ticket);
        }
      //--- Journal positions whose comment and magic both changed are still ours.
      for(int j = 0; j < m_journal.Count(); j++)
        {
         if(m_journal.IsClosed(j) || Contains(seen, m_journal.Ticket(j)))
            continue;
         HsOpenRow row;
         if(!HsOpenInfo(m_journal.Ticket(j), row))
            continue;
         Push(items, HsPositionItem(m_journal.PositionId(j), row.ticket, m_journal.Symbol(j), row.side,
                                    HsVolumeText(row.brokerSymbol, row.volume), row.openPrice, row.openTimeMs,
                                    row.profit));
        }
      Answer(commandId, HsPositionsMessage(commandId, items, ArraySize(items)));
     }
   bool              Contains(const string &list[], const string value)
     {
      for(int i = 0; i < ArraySize(list); i++)
         if(list[i] == value)
            return true;
      return false;
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
         Push(m_subCanonical, symbols[i]);
         Push(m_subBroker, broker);
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

   //--- A tracked position that is gone without a CLOSE from the agent was stopped.
   void              ScanStops(void)
     {
      for(int j = 0; j < m_journal.Count(); j++)
        {
         if(m_journal.IsClosed(j) || HsIsOpen(m_journal.Ticket(j)))
            continue;
         HsFill fill;
         ClearFill(fill);
         if(!HsClosedSummary(m_journal.Ticket(j), fill))
            continue;                        // history not there yet; look again next scan
         Enqueue(HsStoppedMessage(m_journal.PositionId(j), m_journal.Ticket(j), fill.price, fill.timeMs,
                                  fill.profit, fill.reason));
         m_journal.RecordClose(m_journal.Ticket(j), fill.price, fill.timeMs, fill.profit, fill.reason);
        }
     }

   //--- Positions with our comment that the journal lacks (it was deleted) are adopted.
   void              AdoptOpenPositions(void)
     {
      HsOpenRow rows[];
      int count = HsListOpen(rows);
      for(int i = 0; i < count; i++)
        {
         string id = HsIdFromComment(rows[i].comment);
         if(id == "" || m_journal.FindByTicket(rows[i].ticket) >= 0)
            continue;
         m_journal.RecordOpen(rows[i].ticket, FullId(id), m_symbols.Canonical(rows[i].brokerSymbol),
                              rows[i].side, HsVolumeText(rows[i].brokerSymbol, rows[i].volume),
                              rows[i].openPrice, rows[i].openTimeMs);
         Print("HedgeSystem: adopted open position ", rows[i].ticket, " (", rows[i].comment, ")");
        }
     }

public:
                     CHsSession(void) : m_link(HS_LINK_DOWN), m_nextAttemptMs(0), m_backoffMs(HS_BACKOFF_FIRST_MS),
                                        m_pingId(0), m_answeredNext(0), m_lastAccountMs(0), m_lastScanMs(0) {}

   void              Init(const string host, const int port, const string token, const uint timeoutMs,
                          const string symbolPrefix, const string symbolSuffix, const string journalFile)
     {
      m_host = host;
      m_port = port;
      m_token = token;
      m_timeoutMs = timeoutMs;
      MathSrand((int)(GetTickCount() ^ (uint)TimeLocal()));
      m_symbols.Init(symbolPrefix, symbolSuffix);
      m_journal.Load(journalFile);
      AdoptOpenPositions();
      ScanStops();                           // closes that happened while the EA was not running
     }

   void              OnTimer(void)
     {
      long now = HsNowMs();
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
      if(now - m_lastScanMs >= HS_SCAN_EVERY_MS)
        {
         m_lastScanMs = now;
         ScanStops();
        }
      Flush(now);
     }

   //--- Trade events (MQL5 OnTrade) make the stop scan run at once instead of within 250 ms.
   void              OnTradeEvent(void)
     {
      ScanStops();
      Flush(HsNowMs());
     }

   void              OnTick(void)
     {
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
             + ", queued events " + IntegerToString(ArraySize(m_outbox))
             + (m_lastProblem != "" ? "\nlast problem: " + m_lastProblem : "");
     }
  };

#endif
