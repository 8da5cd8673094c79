//+------------------------------------------------------------------+
//| Trade.mqh (MQL5) - market orders, closes, history look-ups and   |
//| the mapping of TRADE_RETCODE_* to the protocol's errorCode.      |
//| MQL4 has a Trade.mqh with the same functions over OrderSend/     |
//| OrderClose; Session.mqh only calls these.                        |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_TRADE_MQH
#define HEDGE_SYSTEM_TRADE_MQH

#include "Protocol.mqh"
#include "Symbols.mqh"

//--- The outcome of an open, a close or a history look-up.
struct HsFill
  {
   string            ticket;
   string            brokerSymbol;
   string            price;         // formatted with the symbol's digits
   long              timeMs;        // UTC
   string            profit;        // net: profit + swap + commission + fee
   string            reason;        // STOPPED reason, for closes
   string            errorCode;
   string            message;
  };

//--- One open position as SYNC reports it.
struct HsOpenRow
  {
   string            ticket;
   string            brokerSymbol;
   string            comment;
   string            side;
   double            volume;
   string            openPrice;
   long              openTimeMs;
   string            profit;
  };

ulong g_hsMagic = 0;
ulong g_hsDeviation = 10;

string HsPlatform(void) { return "MT5"; }

void HsTradeSetup(const long magic, const int deviationPoints)
  {
   g_hsMagic = (ulong)magic;
   g_hsDeviation = (ulong)deviationPoints;
  }

//--- The EA keeps one position per positionId, which a netting account cannot do.
bool HsAccountCheck(string &why)
  {
   ENUM_ACCOUNT_MARGIN_MODE mode = (ENUM_ACCOUNT_MARGIN_MODE)AccountInfoInteger(ACCOUNT_MARGIN_MODE);
   if(mode == ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)
      return true;
   why = "HedgeSystemEA needs a hedging account; account " + IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN))
         + " uses netting/exchange margin mode. Ask the broker for a hedging account.";
   return false;
  }

datetime HsServerNow(void) { return TimeTradeServer(); }

long HsServerMsToUtc(const long serverMs)
  {
   return serverMs - HsServerOffsetSeconds(TimeTradeServer()) * 1000;
  }

//--- The time of a tick in UTC milliseconds (MqlTick.time_msc is broker server time).
long HsTickTimeMs(const MqlTick &tick)
  {
   return HsServerMsToUtc((long)tick.time_msc);
  }

//--- TRADE_RETCODE_* -> errorCode (table in ea/mql/README.md).
string HsErrorCodeFor(const uint retcode)
  {
   switch(retcode)
     {
      case TRADE_RETCODE_INVALID_VOLUME:
      case TRADE_RETCODE_LIMIT_VOLUME:
      case TRADE_RETCODE_INVALID_CLOSE_VOLUME:
         return HS_ERR_INVALID_VOLUME;
      case TRADE_RETCODE_NO_MONEY:
         return HS_ERR_NOT_ENOUGH_MONEY;
      case TRADE_RETCODE_MARKET_CLOSED:
         return HS_ERR_MARKET_CLOSED;
      case TRADE_RETCODE_TRADE_DISABLED:
      case TRADE_RETCODE_SERVER_DISABLES_AT:
      case TRADE_RETCODE_CLIENT_DISABLES_AT:
      case TRADE_RETCODE_ONLY_REAL:
      case TRADE_RETCODE_LIMIT_ORDERS:
      case TRADE_RETCODE_LIMIT_POSITIONS:
      case TRADE_RETCODE_LONG_ONLY:
      case TRADE_RETCODE_SHORT_ONLY:
      case TRADE_RETCODE_CLOSE_ONLY:
      case TRADE_RETCODE_FIFO_CLOSE:
      case TRADE_RETCODE_HEDGE_PROHIBITED:
         return HS_ERR_TRADE_DISABLED;
      case TRADE_RETCODE_REQUOTE:
      case TRADE_RETCODE_PRICE_CHANGED:
      case TRADE_RETCODE_PRICE_OFF:
      case TRADE_RETCODE_INVALID_PRICE:
         return HS_ERR_REQUOTE;
      case TRADE_RETCODE_TIMEOUT:
      case TRADE_RETCODE_CONNECTION:
      case TRADE_RETCODE_TOO_MANY_REQUESTS:
      case TRADE_RETCODE_LOCKED:
      case TRADE_RETCODE_FROZEN:
         return HS_ERR_TIMEOUT;
     }
   return HS_ERR_UNKNOWN;
  }

//--- FOK when the symbol allows it, else IOC, else RETURN (exchange-style symbols).
ENUM_ORDER_TYPE_FILLING HsFillingFor(const string brokerSymbol)
  {
   long modes = SymbolInfoInteger(brokerSymbol, SYMBOL_FILLING_MODE);
   if((modes & SYMBOL_FILLING_FOK) == SYMBOL_FILLING_FOK)
      return ORDER_FILLING_FOK;
   if((modes & SYMBOL_FILLING_IOC) == SYMBOL_FILLING_IOC)
      return ORDER_FILLING_IOC;
   return ORDER_FILLING_RETURN;
  }

//--- Checks the terminal makes before sending; false with fill.errorCode when trading is off.
bool HsPreTradeCheck(const string brokerSymbol, const bool opening, HsFill &fill)
  {
   string why = "";
   if(!TerminalInfoInteger(TERMINAL_TRADE_ALLOWED))
      why = "AutoTrading is switched off in the terminal";
   else if(!MQLInfoInteger(MQL_TRADE_ALLOWED))
      why = "live trading is not allowed for this EA (Common tab)";
   else if(!AccountInfoInteger(ACCOUNT_TRADE_ALLOWED) || !AccountInfoInteger(ACCOUNT_TRADE_EXPERT))
      why = "the broker does not allow expert trading on this account";
   else
     {
      ENUM_SYMBOL_TRADE_MODE mode = (ENUM_SYMBOL_TRADE_MODE)SymbolInfoInteger(brokerSymbol, SYMBOL_TRADE_MODE);
      if(mode == SYMBOL_TRADE_MODE_DISABLED || (opening && mode == SYMBOL_TRADE_MODE_CLOSEONLY))
         why = "trading " + brokerSymbol + " is disabled by the broker";
     }
   if(why == "")
      return true;
   fill.errorCode = HS_ERR_TRADE_DISABLED;
   fill.message = why;
   return false;
  }

string HsReasonFor(const long dealReason)
  {
   switch((int)dealReason)
     {
      case DEAL_REASON_SO:     return HS_REASON_STOP_OUT;
      case DEAL_REASON_SL:     return HS_REASON_STOP_LOSS;
      case DEAL_REASON_TP:     return HS_REASON_TAKE_PROFIT;
      case DEAL_REASON_CLIENT:
      case DEAL_REASON_MOBILE:
      case DEAL_REASON_WEB:    return HS_REASON_MANUAL;
      case DEAL_REASON_EXPERT: return HS_REASON_EXPERT;
     }
   return HS_REASON_OTHER;
  }

//--- Fills `row` from the position selected by PositionGetTicket/PositionSelectByTicket.
void HsReadSelectedPosition(HsOpenRow &row)
  {
   row.ticket = IntegerToString((long)PositionGetInteger(POSITION_TICKET));
   row.brokerSymbol = PositionGetString(POSITION_SYMBOL);
   row.comment = PositionGetString(POSITION_COMMENT);
   row.side = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY ? "BUY" : "SELL";
   row.volume = PositionGetDouble(POSITION_VOLUME);
   row.openPrice = HsPriceText(row.brokerSymbol, PositionGetDouble(POSITION_PRICE_OPEN));
   row.openTimeMs = HsServerMsToUtc((long)PositionGetInteger(POSITION_TIME_MSC));
   row.profit = DoubleToString(PositionGetDouble(POSITION_PROFIT) + PositionGetDouble(POSITION_SWAP), 2);
  }

bool HsIsOpen(const string ticket)
  {
   return PositionSelectByTicket((ulong)StringToInteger(ticket));
  }

bool HsOpenInfo(const string ticket, HsOpenRow &row)
  {
   if(!PositionSelectByTicket((ulong)StringToInteger(ticket)))
      return false;
   HsReadSelectedPosition(row);
   return true;
  }

//--- Open positions that are ours: our comment prefix or our magic number.
int HsListOpen(HsOpenRow &rows[])
  {
   ArrayResize(rows, 0);
   int count = 0;
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      if(PositionGetTicket(i) == 0)
         continue;
      string comment = PositionGetString(POSITION_COMMENT);
      if(StringFind(comment, HS_COMMENT_PREFIX) != 0 && (ulong)PositionGetInteger(POSITION_MAGIC) != g_hsMagic)
         continue;
      ArrayResize(rows, count + 1, 16);
      HsReadSelectedPosition(rows[count]);
      count++;
     }
   return count;
  }

bool HsFindOpenByComment(const string comment, HsOpenRow &row)
  {
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      if(PositionGetTicket(i) == 0)
         continue;
      if(PositionGetString(POSITION_COMMENT) == comment)
        {
         HsReadSelectedPosition(row);
         return true;
        }
     }
   return false;
  }

//--- The recorded close of a position from the deal history; false while it is open or unknown.
//--- On hedging accounts a position's ticket is its identifier, which HistorySelectByPosition takes.
bool HsClosedSummary(const string ticket, HsFill &fill)
  {
   ulong id = (ulong)StringToInteger(ticket);
   if(PositionSelectByTicket(id) || !HistorySelectByPosition(id))
      return false;
   bool closed = false;
   double net = 0.0;
   for(int i = 0; i < HistoryDealsTotal(); i++)
     {
      ulong deal = HistoryDealGetTicket(i);
      if(deal == 0)
         continue;
      net += HistoryDealGetDouble(deal, DEAL_PROFIT) + HistoryDealGetDouble(deal, DEAL_SWAP)
             + HistoryDealGetDouble(deal, DEAL_COMMISSION) + HistoryDealGetDouble(deal, DEAL_FEE);
      ENUM_DEAL_ENTRY entry = (ENUM_DEAL_ENTRY)HistoryDealGetInteger(deal, DEAL_ENTRY);
      if(entry == DEAL_ENTRY_OUT || entry == DEAL_ENTRY_OUT_BY)
        {
         closed = true;
         fill.brokerSymbol = HistoryDealGetString(deal, DEAL_SYMBOL);
         fill.price = HsPriceText(fill.brokerSymbol, HistoryDealGetDouble(deal, DEAL_PRICE));
         fill.timeMs = HsServerMsToUtc((long)HistoryDealGetInteger(deal, DEAL_TIME_MSC));
         fill.reason = HsReasonFor(HistoryDealGetInteger(deal, DEAL_REASON));
        }
     }
   if(!closed)
      return false;
   fill.ticket = ticket;
   fill.profit = DoubleToString(net, 2);
   return true;
  }

//--- Sends `request`; false with fill.errorCode/message unless the deal was done.
bool HsSend(MqlTradeRequest &request, MqlTradeResult &result, HsFill &fill)
  {
   ResetLastError();
   bool sent = OrderSend(request, result);
   if(sent && (result.retcode == TRADE_RETCODE_DONE || result.retcode == TRADE_RETCODE_DONE_PARTIAL))
      return true;
   fill.errorCode = HsErrorCodeFor(result.retcode);
   fill.message = "retcode " + IntegerToString(result.retcode) + " " + result.comment
                  + " (error " + IntegerToString(GetLastError()) + ")";
   return false;
  }

bool HsOpenMarket(const string brokerSymbol, const bool buy, const double volume, const string comment,
                  HsFill &fill)
  {
   if(!HsPreTradeCheck(brokerSymbol, true, fill))
      return false;
   MqlTick tick;
   if(!SymbolInfoTick(brokerSymbol, tick) || tick.bid <= 0 || tick.ask <= 0)
     {
      fill.errorCode = HS_ERR_MARKET_CLOSED;
      fill.message = "no price for " + brokerSymbol;
      return false;
     }
   MqlTradeRequest request;
   MqlTradeResult result;
   ZeroMemory(request);
   ZeroMemory(result);
   request.action = TRADE_ACTION_DEAL;
   request.symbol = brokerSymbol;
   request.volume = volume;
   request.type = buy ? ORDER_TYPE_BUY : ORDER_TYPE_SELL;
   request.price = buy ? tick.ask : tick.bid;
   request.deviation = g_hsDeviation;
   request.magic = g_hsMagic;
   request.comment = comment;
   request.type_filling = HsFillingFor(brokerSymbol);
   if(!HsSend(request, result, fill))
      return false;
   //--- The deal names the position; on hedging accounts it is also the opening order's ticket.
   ulong position = result.order;
   if(result.deal > 0 && HistoryDealSelect(result.deal))
      position = (ulong)HistoryDealGetInteger(result.deal, DEAL_POSITION_ID);
   fill.ticket = IntegerToString((long)position);
   fill.brokerSymbol = brokerSymbol;
   HsOpenRow row;
   if(HsOpenInfo(fill.ticket, row))
     {
      fill.price = row.openPrice;
      fill.timeMs = row.openTimeMs;
     }
   else
     {
      fill.price = HsPriceText(brokerSymbol, result.price);
      fill.timeMs = HsNowMs();
     }
   return true;
  }

bool HsCloseTicket(const string ticket, HsFill &fill)
  {
   ulong id = (ulong)StringToInteger(ticket);
   if(!PositionSelectByTicket(id))
     {
      fill.errorCode = HS_ERR_UNKNOWN;
      fill.message = "position " + ticket + " is not open";
      return false;
     }
   string symbol = PositionGetString(POSITION_SYMBOL);
   bool wasBuy = PositionGetInteger(POSITION_TYPE) == POSITION_TYPE_BUY;
   double volume = PositionGetDouble(POSITION_VOLUME);
   double roughProfit = PositionGetDouble(POSITION_PROFIT) + PositionGetDouble(POSITION_SWAP);
   if(!HsPreTradeCheck(symbol, false, fill))
      return false;
   MqlTick tick;
   if(!SymbolInfoTick(symbol, tick) || tick.bid <= 0 || tick.ask <= 0)
     {
      fill.errorCode = HS_ERR_MARKET_CLOSED;
      fill.message = "no price for " + symbol;
      return false;
     }
   MqlTradeRequest request;
   MqlTradeResult result;
   ZeroMemory(request);
   ZeroMemory(result);
   request.action = TRADE_ACTION_DEAL;
   request.position = id;
   request.symbol = symbol;
   request.volume = volume;
   request.type = wasBuy ? ORDER_TYPE_SELL : ORDER_TYPE_BUY;
   request.price = wasBuy ? tick.bid : tick.ask;
   request.deviation = g_hsDeviation;
   request.magic = g_hsMagic;
   request.type_filling = HsFillingFor(symbol);
   if(!HsSend(request, result, fill))
      return false;
   if(HsClosedSummary(ticket, fill))
      return true;
   //--- History not synchronised yet: answer from the trade result (profit before commission).
   fill.ticket = ticket;
   fill.brokerSymbol = symbol;
   fill.price = HsPriceText(symbol, result.price);
   fill.timeMs = HsNowMs();
   fill.profit = DoubleToString(roughProfit, 2);
   return true;
  }

#endif
