//+------------------------------------------------------------------+
//| Trade.mqh (MQL4) - market orders, closes, history look-ups and   |
//| the mapping of ERR_* trade errors to the protocol's errorCode.   |
//| Same functions as the MQL5 Trade.mqh; Session.mqh only calls     |
//| these. MT4 accounts always hedge, so there is no netting check.  |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_TRADE_MQH
#define HEDGE_SYSTEM_TRADE_MQH

#include "Protocol.mqh"
#include "Symbols.mqh"

struct HsFill
  {
   string            ticket;
   string            brokerSymbol;
   string            price;
   long              timeMs;
   string            profit;
   string            reason;
   string            errorCode;
   string            message;
  };

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

int g_hsMagic = 0;
int g_hsDeviation = 10;

string HsPlatform(void) { return "MT4"; }

void HsTradeSetup(const long magic, const int deviationPoints)
  {
   g_hsMagic = (int)magic;
   g_hsDeviation = deviationPoints;
  }

bool HsAccountCheck(string &why)
  {
   why = "";
   return true;
  }

datetime HsServerNow(void) { return TimeCurrent(); }

//--- MT4 order times are whole seconds of the broker's server clock.
long HsServerTimeToUtcMs(const datetime serverTime)
  {
   return ((long)serverTime - HsServerOffsetSeconds(TimeCurrent())) * 1000;
  }

//--- MQL4's MqlTick has no milliseconds: PRICE carries the time the EA saw the change.
long HsTickTimeMs(const MqlTick &tick)
  {
   return HsNowMs();
  }

//--- ERR_* (GetLastError after OrderSend/OrderClose) -> errorCode (table in ea/mql/README.md).
//--- Numbers are used because a few constant names differ between MQL4 builds.
string HsErrorCodeFor(const int error)
  {
   switch(error)
     {
      case 131:   // ERR_INVALID_TRADE_VOLUME
         return HS_ERR_INVALID_VOLUME;
      case 134:   // ERR_NOT_ENOUGH_MONEY
         return HS_ERR_NOT_ENOUGH_MONEY;
      case 132:   // ERR_MARKET_CLOSED
         return HS_ERR_MARKET_CLOSED;
      case 133:   // ERR_TRADE_DISABLED
      case 64:    // ERR_ACCOUNT_DISABLED
      case 65:    // ERR_INVALID_ACCOUNT
      case 7:     // ERR_NOT_ENOUGH_RIGHTS
      case 140:   // ERR_LONG_POSITIONS_ONLY_ALLOWED
      case 148:   // ERR_TRADE_TOO_MANY_ORDERS
      case 149:   // ERR_TRADE_HEDGE_PROHIBITED
      case 150:   // ERR_TRADE_PROHIBITED_BY_FIFO
      case 4109:  // ERR_TRADE_NOT_ALLOWED
      case 4110:  // ERR_LONGS_NOT_ALLOWED
      case 4111:  // ERR_SHORTS_NOT_ALLOWED
         return HS_ERR_TRADE_DISABLED;
      case 138:   // ERR_REQUOTE
      case 135:   // ERR_PRICE_CHANGED
      case 136:   // ERR_OFF_QUOTES
      case 129:   // ERR_INVALID_PRICE
         return HS_ERR_REQUOTE;
      case 128:   // ERR_TRADE_TIMEOUT
      case 4:     // ERR_SERVER_BUSY
      case 6:     // ERR_NO_CONNECTION
      case 8:     // ERR_TOO_FREQUENT_REQUESTS
      case 137:   // ERR_BROKER_BUSY
      case 141:   // ERR_TOO_MANY_REQUESTS
      case 146:   // ERR_TRADE_CONTEXT_BUSY
         return HS_ERR_TIMEOUT;
      case 4106:  // ERR_UNKNOWN_SYMBOL
         return HS_ERR_INVALID_SYMBOL;
     }
   return HS_ERR_UNKNOWN;
  }

bool HsPreTradeCheck(const string brokerSymbol, const bool opening, HsFill &fill)
  {
   string why = "";
   string code = HS_ERR_TRADE_DISABLED;
   if(!TerminalInfoInteger(TERMINAL_TRADE_ALLOWED))
      why = "AutoTrading is switched off in the terminal";
   else if(!IsTradeAllowed())
      why = "live trading is not allowed for this EA (Common tab)";
   else if(MarketInfo(brokerSymbol, MODE_TRADEALLOWED) == 0)
      why = "trading " + brokerSymbol + " is not allowed now";
   else if(IsTradeContextBusy())
     {
      why = "the trade context is busy";
      code = HS_ERR_TIMEOUT;
     }
   if(why == "")
      return true;
   fill.errorCode = code;
   fill.message = why;
   return false;
  }

//--- MT4 has no deal reason; the server marks the closed order's comment instead.
string HsReasonFor(const string comment)
  {
   if(StringFind(comment, "so:") >= 0)
      return HS_REASON_STOP_OUT;
   if(StringFind(comment, "[sl]") >= 0)
      return HS_REASON_STOP_LOSS;
   if(StringFind(comment, "[tp]") >= 0)
      return HS_REASON_TAKE_PROFIT;
   return HS_REASON_OTHER;               // manual and other-EA closes look alike in MT4
  }

//--- Fills `row` from the order selected with OrderSelect.
void HsReadSelectedOrder(HsOpenRow &row)
  {
   row.ticket = IntegerToString(OrderTicket());
   row.brokerSymbol = OrderSymbol();
   row.comment = OrderComment();
   row.side = OrderType() == OP_BUY ? "BUY" : "SELL";
   row.volume = OrderLots();
   row.openPrice = HsPriceText(row.brokerSymbol, OrderOpenPrice());
   row.openTimeMs = HsServerTimeToUtcMs(OrderOpenTime());
   row.profit = DoubleToString(OrderProfit() + OrderSwap() + OrderCommission(), 2);
  }

bool HsSelectOpen(const string ticket)
  {
   return OrderSelect((int)StringToInteger(ticket), SELECT_BY_TICKET)
          && OrderCloseTime() == 0 && (OrderType() == OP_BUY || OrderType() == OP_SELL);
  }

bool HsIsOpen(const string ticket)
  {
   return HsSelectOpen(ticket);
  }

bool HsOpenInfo(const string ticket, HsOpenRow &row)
  {
   if(!HsSelectOpen(ticket))
      return false;
   HsReadSelectedOrder(row);
   return true;
  }

int HsListOpen(HsOpenRow &rows[])
  {
   ArrayResize(rows, 0);
   int count = 0;
   for(int i = OrdersTotal() - 1; i >= 0; i--)
     {
      if(!OrderSelect(i, SELECT_BY_POS, MODE_TRADES))
         continue;
      if(OrderType() != OP_BUY && OrderType() != OP_SELL)
         continue;
      if(StringFind(OrderComment(), HS_COMMENT_PREFIX) != 0 && OrderMagicNumber() != g_hsMagic)
         continue;
      ArrayResize(rows, count + 1, 16);
      HsReadSelectedOrder(rows[count]);
      count++;
     }
   return count;
  }

bool HsFindOpenByComment(const string comment, HsOpenRow &row)
  {
   for(int i = OrdersTotal() - 1; i >= 0; i--)
     {
      if(!OrderSelect(i, SELECT_BY_POS, MODE_TRADES))
         continue;
      if((OrderType() == OP_BUY || OrderType() == OP_SELL) && OrderComment() == comment)
        {
         HsReadSelectedOrder(row);
         return true;
        }
     }
   return false;
  }

//--- The recorded close of an order; false while it is open or unknown.
bool HsClosedSummary(const string ticket, HsFill &fill)
  {
   if(!OrderSelect((int)StringToInteger(ticket), SELECT_BY_TICKET) || OrderCloseTime() == 0)
      return false;
   fill.ticket = ticket;
   fill.brokerSymbol = OrderSymbol();
   fill.price = HsPriceText(OrderSymbol(), OrderClosePrice());
   fill.timeMs = HsServerTimeToUtcMs(OrderCloseTime());
   fill.profit = DoubleToString(OrderProfit() + OrderSwap() + OrderCommission(), 2);
   fill.reason = HsReasonFor(OrderComment());
   return true;
  }

bool HsOpenMarket(const string brokerSymbol, const bool buy, const double volume, const string comment,
                  HsFill &fill)
  {
   if(!HsPreTradeCheck(brokerSymbol, true, fill))
      return false;
   RefreshRates();
   double price = MarketInfo(brokerSymbol, buy ? MODE_ASK : MODE_BID);
   if(price <= 0)
     {
      fill.errorCode = HS_ERR_MARKET_CLOSED;
      fill.message = "no price for " + brokerSymbol;
      return false;
     }
   ResetLastError();
   int ticket = OrderSend(brokerSymbol, buy ? OP_BUY : OP_SELL, volume,
                          NormalizeDouble(price, HsDigits(brokerSymbol)), g_hsDeviation, 0, 0, comment,
                          g_hsMagic, 0, clrNONE);
   if(ticket < 0)
     {
      int error = GetLastError();
      fill.errorCode = HsErrorCodeFor(error);
      fill.message = "OrderSend failed, error " + IntegerToString(error);
      return false;
     }
   fill.ticket = IntegerToString(ticket);
   fill.brokerSymbol = brokerSymbol;
   if(OrderSelect(ticket, SELECT_BY_TICKET))
     {
      fill.price = HsPriceText(brokerSymbol, OrderOpenPrice());
      fill.timeMs = HsServerTimeToUtcMs(OrderOpenTime());
     }
   else
     {
      fill.price = HsPriceText(brokerSymbol, price);
      fill.timeMs = HsNowMs();
     }
   return true;
  }

bool HsCloseTicket(const string ticket, HsFill &fill)
  {
   if(!HsSelectOpen(ticket))
     {
      fill.errorCode = HS_ERR_UNKNOWN;
      fill.message = "order " + ticket + " is not open";
      return false;
     }
   string symbol = OrderSymbol();
   bool wasBuy = OrderType() == OP_BUY;
   double lots = OrderLots();
   if(!HsPreTradeCheck(symbol, false, fill))
      return false;
   RefreshRates();
   double price = MarketInfo(symbol, wasBuy ? MODE_BID : MODE_ASK);
   ResetLastError();
   if(!OrderClose((int)StringToInteger(ticket), lots, NormalizeDouble(price, HsDigits(symbol)), g_hsDeviation,
                  clrNONE))
     {
      int error = GetLastError();
      fill.errorCode = HsErrorCodeFor(error);
      fill.message = "OrderClose failed, error " + IntegerToString(error);
      return false;
     }
   return HsClosedSummary(ticket, fill);
  }

#endif
