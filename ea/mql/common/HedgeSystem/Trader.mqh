//+------------------------------------------------------------------+
//| Trader.mqh - the EA's answers to OPEN, CLOSE, SYNC and HISTORY,  |
//| the orders it follows until the terminal's word settles them,    |
//| and the stop scan (STOPPED). Identity of an order: the journal,  |
//| then the magic number and comment (brokers rewrite comments).    |
//| Never two orders for one positionId: an order whose outcome is   |
//| unknown (TIMEOUT, lost connection, PLACED) is looked up among    |
//| open positions, pending orders and recent deals before anything  |
//| is answered; one that stays unknown is never sent again.         |
//| Uses Trade.mqh and Lookup.mqh of its platform.                   |
//| One source for MQL5 and MQL4 (ea/mql/common; hedge ea-install).  |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_TRADER_MQH
#define HEDGE_SYSTEM_TRADER_MQH

#include "Messages.mqh"
#include "Journal.mqh"
#include "Outbox.mqh"
#include "Trade.mqh"
#include "Lookup.mqh"

//--- An order sent whose outcome is not known yet; answered (every commandId) once it is.
struct HsFollow
  {
   string            commandIds;    // tab separated: repeats of the OPEN wait for the same order
   string            positionId;
   string            symbol;        // canonical
   string            side;
   string            brokerSymbol;
   string            comment;
   string            order;         // the order ticket when the terminal gave one
   long              deadlineMs;
   bool              placed;        // the broker accepted it (PLACED); else the outcome is unknown
   bool              cancelled;     // we asked the broker to cancel it (unfilled too long)
  };

void HsClearFill(HsFill &fill)
  {
   fill.ticket = "";
   fill.brokerSymbol = "";
   fill.price = "";
   fill.timeMs = 0;
   fill.profit = "0.00";
   fill.reason = "";
   fill.errorCode = HS_ERR_UNKNOWN;
   fill.message = "";
   fill.volume = "";
   fill.order = "";
  }

class CHsTrader
  {
private:
   CHsOutbox        *m_out;
   CHsSymbolMap     *m_symbols;
   CHsJournal        m_journal;
   HsFollow          m_follows[];

   int               FollowIndex(const string positionId)
     {
      for(int k = 0; k < ArraySize(m_follows); k++)
         if(m_follows[k].positionId == positionId)
            return k;
      return -1;
     }
   void              DropFollow(const int k)
     {
      int n = ArraySize(m_follows);
      for(int i = k + 1; i < n; i++)
         m_follows[i - 1] = m_follows[i];
      ArrayResize(m_follows, n - 1);
     }
   void              AnswerAll(const string commandIds, const string positionId, const bool success,
                               const HsFill &fill, const string errorCode, const string message)
     {
      string ids[];
      int n = StringSplit(commandIds, '\t', ids);
      for(int i = 0; i < n; i++)
         m_out.Answer(ids[i], success ? HsOpenedSuccess(ids[i], positionId, fill.ticket, fill.price, fill.timeMs,
                                                        fill.volume)
                                      : HsOpenedFailed(ids[i], positionId, errorCode, message));
     }
   //--- The terminal filled it: cancel any remainder, journal it, answer every commandId waiting.
   void              Filled(const string commandIds, const string positionId, const string symbol,
                            const string side, HsFill &fill)
     {
      if(fill.order != "")
         HsCancelOrder(fill.order);           // a partial fill's remainder is never left live
      m_journal.RecordOpen(fill.ticket, positionId, symbol, side, fill.volume, fill.price, fill.timeMs);
      AnswerAll(commandIds, positionId, true, fill, "", "");
     }
   void              Follow(const HsCommand &cmd, const string broker, const string comment, const HsFill &fill,
                            const bool placed)
     {
      int k = ArraySize(m_follows);
      ArrayResize(m_follows, k + 1, 8);
      m_follows[k].commandIds = cmd.commandId;
      m_follows[k].positionId = cmd.positionId;
      m_follows[k].symbol = cmd.symbol;
      m_follows[k].side = cmd.side;
      m_follows[k].brokerSymbol = broker;
      m_follows[k].comment = comment;
      m_follows[k].order = fill.order;
      m_follows[k].deadlineMs = HsNowMs() + (placed ? HS_FOLLOW_PLACED_MS : HS_FOLLOW_UNKNOWN_MS);
      m_follows[k].placed = placed;
      m_follows[k].cancelled = false;
      PrintFormat("HedgeSystem: order for %s %s (%s); following it before answering", cmd.positionId,
                  placed ? "PLACED" : "has an unknown outcome", fill.message);
     }
   string            FullId(const string commentId)
     {
      if(commentId == "")
         return "";
      string full = m_journal.PositionIdForShortId(commentId);
      return full != "" ? full : commentId;
     }
   string            OwnerFromComment(const string ticket)
     {
      HsOpenRow row;
      if(!HsOpenInfo(ticket, row))
         return "";
      return FullId(HsIdFromComment(row.comment));
     }
   void              Adopt(const HsOpenRow &row, const string positionId, const string symbol)
     {
      m_journal.RecordOpen(row.ticket, positionId, symbol, row.side, HsVolumeText(row.brokerSymbol, row.volume),
                           row.openPrice, row.openTimeMs);
     }

public:
   void              Init(CHsOutbox *out, CHsSymbolMap *symbols, const string journalFile)
     {
      m_out = out;
      m_symbols = symbols;
      m_journal.Load(journalFile);
      AdoptOpenPositions();
      ScanStops();                           // closes that happened while the EA was not running
     }

   bool              Following(void) { return ArraySize(m_follows) > 0; }

   void              Open(const HsCommand &cmd)
     {
      string comment = HsCommentFor(cmd.positionId);
      int j = m_journal.FindByPositionId(cmd.positionId);
      if(j >= 0)
        {
         m_out.Answer(cmd.commandId, HsOpenedSuccess(cmd.commandId, cmd.positionId, m_journal.Ticket(j),
                                                     m_journal.OpenPrice(j), m_journal.OpenTimeMs(j),
                                                     m_journal.Volume(j)));
         return;
        }
      int k = FollowIndex(cmd.positionId);
      if(k >= 0)
        {
         m_follows[k].commandIds += "\t" + cmd.commandId;   // answered with the order being followed
         return;
        }
      HsOpenRow row;
      if(HsFindOpenByComment(comment, row))
        {
         Adopt(row, cmd.positionId, cmd.symbol);
         m_out.Answer(cmd.commandId, HsOpenedSuccess(cmd.commandId, cmd.positionId, row.ticket, row.openPrice,
                                                     row.openTimeMs, HsVolumeText(row.brokerSymbol, row.volume)));
         return;
        }
      string broker = m_symbols.Broker(cmd.symbol);
      HsFill fill;
      HsClearFill(fill);
      if(m_journal.IsUnsettled(cmd.positionId))
        {
         int found = broker == "" ? HS_FOUND_NONE : HsFindOrder(broker, comment, "", fill);
         if(found == HS_FOUND_FILLED)
            Filled(cmd.commandId, cmd.positionId, cmd.symbol, cmd.side, fill);
         else if(found == HS_FOUND_PENDING)
            Follow(cmd, broker, comment, fill, true);
         else
            m_out.Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, HS_ERR_TIMEOUT,
                         "an earlier order for this positionId had an unknown outcome and is not found at the "
                         + "terminal; no second order is sent for it" + HsHistoryNote()));
         return;
        }
      if(broker == "" || !SymbolSelect(broker, true))
        {
         m_out.Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, HS_ERR_INVALID_SYMBOL,
                                                    "symbol " + cmd.symbol + " is not offered by this broker"));
         return;
        }
      string problem = HsVolumeProblem(broker, cmd.volume);
      if(problem != "")
        {
         m_out.Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, HS_ERR_INVALID_VOLUME, problem));
         return;
        }
      if(HsMarginMode() != "HEDGING")
        {
         m_out.Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, HS_ERR_HEDGING_PROHIBITED,
                      "this is a " + HsMarginMode() + " account: one position per positionId needs hedging"));
         return;
        }
      int outcome = HsOpenMarket(broker, cmd.side == "BUY", cmd.volume, comment, fill);
      if(outcome == HS_SEND_DONE)
         Filled(cmd.commandId, cmd.positionId, cmd.symbol, cmd.side, fill);
      else if(outcome == HS_SEND_REFUSED)
         m_out.Answer(cmd.commandId, HsOpenedFailed(cmd.commandId, cmd.positionId, fill.errorCode, fill.message));
      else
         Follow(cmd, broker, comment, fill, outcome == HS_SEND_PLACED);
     }

   //--- Each timer tick: settle the orders followed, from what the terminal shows now.
   void              FollowUp(const long now)
     {
      for(int k = ArraySize(m_follows) - 1; k >= 0; k--)
        {
         HsFill fill;
         HsClearFill(fill);
         int found = HsFindOrder(m_follows[k].brokerSymbol, m_follows[k].comment, m_follows[k].order, fill);
         if(found == HS_FOUND_FILLED)
           {
            Filled(m_follows[k].commandIds, m_follows[k].positionId, m_follows[k].symbol, m_follows[k].side, fill);
            DropFollow(k);
            continue;
           }
         if(now < m_follows[k].deadlineMs)
            continue;
         if(found == HS_FOUND_PENDING && !m_follows[k].cancelled)
           {
            HsCancelOrder(fill.order != "" ? fill.order : m_follows[k].order);
            m_follows[k].cancelled = true;
            m_follows[k].deadlineMs = now + HS_FOLLOW_UNKNOWN_MS;
            continue;
           }
         if(found == HS_FOUND_NONE && m_follows[k].cancelled)
            AnswerAll(m_follows[k].commandIds, m_follows[k].positionId, false, fill, HS_ERR_REQUOTE,
                      "the order did not fill in time and was cancelled; nothing was filled");
         else
           {
            m_journal.RecordUnsettled(m_follows[k].positionId, now);
            AnswerAll(m_follows[k].commandIds, m_follows[k].positionId, false, fill, HS_ERR_TIMEOUT,
                      "the order's outcome is not known (nothing found at the terminal yet); ask SYNC/HISTORY later");
           }
         DropFollow(k);
        }
     }

   void              Close(const HsCommand &cmd)
     {
      string ticket = cmd.mtTicket;
      int j = m_journal.FindByTicket(ticket);
      string owner = j >= 0 ? m_journal.PositionId(j) : OwnerFromComment(ticket);
      if(owner != "" && owner != cmd.positionId)
        {
         m_out.Answer(cmd.commandId, HsClosedFailed(cmd.commandId, cmd.positionId, ticket, HS_ERR_UNKNOWN,
                                                    "ticket " + ticket + " belongs to position " + owner));
         return;
        }
      if(j >= 0 && m_journal.IsClosed(j))
        {
         m_out.Answer(cmd.commandId, HsClosedSuccess(cmd.commandId, cmd.positionId, ticket, m_journal.ClosePrice(j),
                                                     m_journal.CloseTimeMs(j), m_journal.Profit(j)));
         return;
        }
      HsFill fill;
      HsClearFill(fill);
      if(HsIsOpen(ticket) && HsCloseTicket(ticket, fill))
        {
         m_journal.RecordClose(ticket, fill.price, fill.timeMs, fill.profit, HS_REASON_AGENT);
         m_out.Answer(cmd.commandId, HsClosedSuccess(cmd.commandId, cmd.positionId, ticket, fill.price, fill.timeMs,
                                                     fill.profit));
         return;
        }
      //--- Not closed by this CLOSE: was it closed meanwhile (a stop-out racing it, SL/TP, by hand)?
      HsFill gone;
      HsClearFill(gone);
      if(HsClosedSummary(ticket, gone))
        {
         string reason = gone.reason == "" ? HS_REASON_UNKNOWN : gone.reason;
         if(reason != HS_REASON_AGENT)
            m_out.Enqueue(HsStoppedMessage(cmd.positionId, ticket, gone.price, gone.timeMs, gone.profit, reason));
         m_journal.RecordClose(ticket, gone.price, gone.timeMs, gone.profit, reason);
         m_out.Answer(cmd.commandId, HsClosedSuccess(cmd.commandId, cmd.positionId, ticket, gone.price, gone.timeMs,
                                                     gone.profit));
         return;
        }
      if(fill.message == "")
         fill.message = "ticket " + ticket + " is neither open nor in the account history" + HsHistoryNote();
      m_out.Answer(cmd.commandId, HsClosedFailed(cmd.commandId, cmd.positionId, ticket, fill.errorCode, fill.message));
     }

   void              Sync(const string commandId)
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
         HsPush(items, HsPositionItem(positionId, rows[i].ticket, symbol, rows[i].side,
                                      HsVolumeText(rows[i].brokerSymbol, rows[i].volume), rows[i].openPrice,
                                      rows[i].openTimeMs, rows[i].profit));
         HsPush(seen, rows[i].ticket);
        }
      //--- Journal positions whose comment and magic both changed are still ours.
      for(int k = 0; k < m_journal.OpenCount(); k++)
        {
         int j = m_journal.OpenRow(k);
         HsOpenRow row;
         if(HsContains(seen, m_journal.Ticket(j)) || !HsOpenInfo(m_journal.Ticket(j), row))
            continue;
         HsPush(items, HsPositionItem(m_journal.PositionId(j), row.ticket, m_journal.Symbol(j), row.side,
                                      HsVolumeText(row.brokerSymbol, row.volume), row.openPrice, row.openTimeMs,
                                      row.profit));
        }
      m_out.Answer(commandId, HsPositionsMessage(commandId, items, ArraySize(items)));
     }

   //--- How each asked-for position ended: journal first, then the terminal by comment.
   void              History(const HsCommand &cmd)
     {
      string items[];
      for(int i = 0; i < ArraySize(cmd.positionIds); i++)
        {
         string positionId = cmd.positionIds[i];
         string comment = HsCommentFor(positionId);
         HsFill fill;
         HsClearFill(fill);
         HsOpenRow row;
         int j = m_journal.FindByPositionId(positionId);
         string entry = "";
         if(j >= 0 && HsIsOpen(m_journal.Ticket(j)))
            entry = HsHistoryEntry(positionId, m_journal.Ticket(j), HS_STATE_OPEN, "", 0, "", "");
         else if(j >= 0 && m_journal.IsClosed(j))
            entry = HsHistoryEntry(positionId, m_journal.Ticket(j), HS_STATE_CLOSED, m_journal.ClosePrice(j),
                                   m_journal.CloseTimeMs(j), m_journal.Profit(j), m_journal.Reason(j));
         else if(j >= 0 && HsClosedSummary(m_journal.Ticket(j), fill))
            entry = HsHistoryEntry(positionId, fill.ticket, HS_STATE_CLOSED, fill.price, fill.timeMs, fill.profit,
                                   fill.reason);
         else if(j < 0 && HsFindOpenByComment(comment, row))
            entry = HsHistoryEntry(positionId, row.ticket, HS_STATE_OPEN, "", 0, "", "");
         else if(j < 0 && HsFindClosedByComment(comment, fill))
            entry = HsHistoryEntry(positionId, fill.ticket, HS_STATE_CLOSED, fill.price, fill.timeMs, fill.profit,
                                   fill.reason);
         else
           {
            entry = HsHistoryEntry(positionId, j >= 0 ? m_journal.Ticket(j) : "", HS_STATE_UNKNOWN, "", 0, "", "");
            Print("HedgeSystem: HISTORY finds nothing for ", positionId, HsHistoryNote());
           }
         HsPush(items, entry);
        }
      m_out.Answer(cmd.commandId, HsHistoryResultMessage(cmd.commandId, items, ArraySize(items)));
     }

   //--- A journal position that is gone without a CLOSE from the agent was stopped. Only the
   //--- open rows are looked at (the journal indexes them).
   void              ScanStops(void)
     {
      int open[];
      int n = m_journal.OpenCount();
      ArrayResize(open, n);
      for(int k = 0; k < n; k++)
         open[k] = m_journal.OpenRow(k);
      for(int k = 0; k < n; k++)
        {
         int j = open[k];
         if(HsIsOpen(m_journal.Ticket(j)))
            continue;
         HsFill fill;
         HsClearFill(fill);
         if(!HsClosedSummary(m_journal.Ticket(j), fill))
            continue;                        // history not there yet; look again next scan
         string reason = fill.reason == "" ? HS_REASON_UNKNOWN : fill.reason;
         if(reason != HS_REASON_AGENT)
            m_out.Enqueue(HsStoppedMessage(m_journal.PositionId(j), m_journal.Ticket(j), fill.price, fill.timeMs,
                                           fill.profit, reason));
         m_journal.RecordClose(m_journal.Ticket(j), fill.price, fill.timeMs, fill.profit, reason);
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
         Adopt(rows[i], FullId(id), m_symbols.Canonical(rows[i].brokerSymbol));
         Print("HedgeSystem: adopted open position ", rows[i].ticket, " (", rows[i].comment, ")");
        }
     }

   //--- SYMBOLS for these broker symbols (the terminal's own figures).
   string            SymbolsMessage(const string &brokers[])
     {
      string items[];
      for(int i = 0; i < ArraySize(brokers); i++)
         HsPush(items, HsSymbolsItem(brokers[i]));
      return HsSymbolsMessage(items, ArraySize(items));
     }
  };

#endif
