//+------------------------------------------------------------------+
//| Trade.mqh (MQL5) - market orders and closes, TRADE_RETCODE_* ->  |
//| errorCode, and which results leave the outcome unknown (looked   |
//| up in Lookup.mqh before any answer). MQL4 has the same functions |
//| over OrderSend/OrderClose; Trader.mqh only calls these.          |
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
   string            reason;        // STOPPED reason, for closes (AGENT: by this EA's own close)
   string            errorCode;
   string            message;
   string            volume;        // lots filled, for opens
   string            order;         // the order ticket, when an order may still be pending
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

//--- AUTH marginMode: "HEDGING", "NETTING" or "EXCHANGE" (ACCOUNT_MARGIN_MODE).
string HsMarginMode(void)
  {
   ENUM_ACCOUNT_MARGIN_MODE mode = (ENUM_ACCOUNT_MARGIN_MODE)AccountInfoInteger(ACCOUNT_MARGIN_MODE);
   if(mode == ACCOUNT_MARGIN_MODE_RETAIL_HEDGING)
      return "HEDGING";
   return mode == ACCOUNT_MARGIN_MODE_EXCHANGE ? "EXCHANGE" : "NETTING";
  }

//--- The EA keeps one position per positionId, which a netting account cannot do. It still
//--- connects (AUTH says marginMode, so the agent can say why it does not trade) and refuses OPEN.
bool HsAccountCheck(string &why)
  {
   if(HsMarginMode() == "HEDGING")
      return true;
   why = "account " + IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN)) + " uses " + HsMarginMode()
         + " margin mode: the agent sends no OPEN to it and the EA refuses OPEN (ask for a hedging account)";
   return false;
  }

void HsNoteTick(void) {}   // MQL5 has TimeTradeServer(); MQL4 learns the server offset from ticks

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
         return HS_ERR_TRADE_DISABLED;
      case TRADE_RETCODE_FIFO_CLOSE:
      case TRADE_RETCODE_HEDGE_PROHIBITED:
         return HS_ERR_HEDGING_PROHIBITED;
      case TRADE_RETCODE_REQUOTE:
      case TRADE_RETCODE_PRICE_CHANGED:
      case TRADE_RETCODE_PRICE_OFF:
      case TRADE_RETCODE_INVALID_PRICE:
      case TRADE_RETCODE_TOO_MANY_REQUESTS:   // refused before it was processed: nothing placed
      case TRADE_RETCODE_FROZEN:
         return HS_ERR_REQUOTE;
      case TRADE_RETCODE_TIMEOUT:
      case TRADE_RETCODE_CONNECTION:
      case TRADE_RETCODE_LOCKED:
         return HS_ERR_TIMEOUT;
     }
   return HS_ERR_UNKNOWN;
  }

//--- Results after which the order may exist at the broker: looked up, never answered blindly.
bool HsOutcomeUnknown(const bool sent, const uint retcode)
  {
   return retcode == 0 || retcode == TRADE_RETCODE_TIMEOUT || retcode == TRADE_RETCODE_CONNECTION
          || retcode == TRADE_RETCODE_LOCKED || (!sent && HsErrorCodeFor(retcode) == HS_ERR_UNKNOWN);
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

//--- The reason of a closing deal; AGENT when this EA's own close (our magic, by an expert) did it.
string HsReasonFor(const long dealReason, const ulong dealMagic)
  {
   switch((int)dealReason)
     {
      case DEAL_REASON_SO:     return HS_REASON_STOP_OUT;
      case DEAL_REASON_SL:     return HS_REASON_STOP_LOSS;
      case DEAL_REASON_TP:     return HS_REASON_TAKE_PROFIT;
      case DEAL_REASON_CLIENT:
      case DEAL_REASON_MOBILE:
      case DEAL_REASON_WEB:    return HS_REASON_TERMINAL_CLOSE;
      case DEAL_REASON_EXPERT: return dealMagic == g_hsMagic ? HS_REASON_AGENT : HS_REASON_TERMINAL_CLOSE;
     }
   return HS_REASON_UNKNOWN;
  }

#include "Lookup.mqh"

//--- Sends `request`: HS_SEND_DONE (DONE, DONE_PARTIAL), HS_SEND_PLACED, HS_SEND_UNKNOWN (the order
//--- may exist) or HS_SEND_REFUSED, with fill.errorCode/message and fill.order set.
int HsSend(MqlTradeRequest &request, MqlTradeResult &result, HsFill &fill)
  {
   ResetLastError();
   bool sent = OrderSend(request, result);
   fill.order = result.order > 0 ? IntegerToString((long)result.order) : "";
   fill.message = "retcode " + IntegerToString(result.retcode) + " " + result.comment
                  + " (error " + IntegerToString(GetLastError()) + ")";
   if(sent && (result.retcode == TRADE_RETCODE_DONE || result.retcode == TRADE_RETCODE_DONE_PARTIAL))
      return HS_SEND_DONE;
   if(result.retcode == TRADE_RETCODE_PLACED)
      return HS_SEND_PLACED;
   fill.errorCode = HsErrorCodeFor(result.retcode);
   return HsOutcomeUnknown(sent, result.retcode) ? HS_SEND_UNKNOWN : HS_SEND_REFUSED;
  }

//--- Cancels an order that is still pending (a partial fill's remainder, an unfilled PLACED order).
void HsCancelOrder(const string order)
  {
   ulong ticket = (ulong)StringToInteger(order);
   if(ticket == 0 || !OrderSelect(ticket))
      return;                               // filled or gone: nothing left to cancel
   MqlTradeRequest request;
   MqlTradeResult result;
   ZeroMemory(request);
   ZeroMemory(result);
   request.action = TRADE_ACTION_REMOVE;
   request.order = ticket;
   if(!OrderSend(request, result) || result.retcode != TRADE_RETCODE_DONE)
      PrintFormat("HedgeSystem: could not cancel order %s (retcode %u); it is followed", order, result.retcode);
  }

//--- HS_SEND_DONE with ticket, price, time and filled volume (a remainder left as an order is in
//--- fill.order, which the caller cancels); otherwise what HsSend said.
int HsOpenMarket(const string brokerSymbol, const bool buy, const double volume, const string comment,
                 HsFill &fill)
  {
   if(!HsPreTradeCheck(brokerSymbol, true, fill))
      return HS_SEND_REFUSED;
   MqlTick tick;
   if(!SymbolInfoTick(brokerSymbol, tick) || tick.bid <= 0 || tick.ask <= 0)
     {
      fill.errorCode = HS_ERR_MARKET_CLOSED;
      fill.message = "no price for " + brokerSymbol;
      return HS_SEND_REFUSED;
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
   int outcome = HsSend(request, result, fill);
   if(outcome != HS_SEND_DONE)
      return outcome;
   //--- The deal names the position; on hedging accounts it is also the opening order's ticket.
   ulong position = result.order;
   if(result.deal > 0 && HistoryDealSelect(result.deal))
      position = (ulong)HistoryDealGetInteger(result.deal, DEAL_POSITION_ID);
   fill.ticket = IntegerToString((long)position);
   fill.brokerSymbol = brokerSymbol;
   fill.volume = HsVolumeText(brokerSymbol, result.volume > 0 ? result.volume : volume);
   if(result.retcode != TRADE_RETCODE_DONE_PARTIAL)
      fill.order = "";                      // nothing can be left of a complete fill
   HsOpenRow row;
   if(HsOpenInfo(fill.ticket, row))
     {
      fill.price = row.openPrice;
      fill.timeMs = row.openTimeMs;
      fill.volume = HsVolumeText(brokerSymbol, row.volume);   // what the position holds
     }
   else
     {
      fill.price = HsPriceText(brokerSymbol, result.price);
      fill.timeMs = HsNowMs();
     }
   return HS_SEND_DONE;
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
   double roughProfit = PositionGetDouble(POSITION_PROFIT) + PositionGetDouble(POSITION_SWAP)
                        + HsEntryCosts((ulong)PositionGetInteger(POSITION_IDENTIFIER));
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
   if(HsSend(request, result, fill) != HS_SEND_DONE)
      return false;                         // the caller looks whether it closed anyway
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
