//+------------------------------------------------------------------+
//| Trade.mqh (MQL4) - market orders and closes, ERR_* -> errorCode, |
//| which errors leave the outcome unknown, and server times in UTC  |
//| from a TimeGMT()-based offset. Same functions as the MQL5 one;   |
//| Trader.mqh only calls these. MT4 accounts always hedge.          |
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
   string            volume;
   string            order;
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

string HsMarginMode(void) { return "HEDGING"; }   // MT4 accounts hedge (FIFO brokers say 149/150)

bool HsAccountCheck(string &why)
  {
   why = "";
   return true;
  }

//--- The broker's server clock minus UTC. TimeCurrent() is the time of the last tick, so it is
//--- only "now" just after a tick: the offset is measured then (against TimeGMT()) and kept.
long     g_hsServerOffset = 0;
bool     g_hsOffsetKnown = false;
datetime g_hsLastTickTime = 0;

void HsNoteTick(void)
  {
   datetime server = TimeCurrent();
   if(g_hsOffsetKnown && server == g_hsLastTickTime)
      return;                                // no new tick: TimeCurrent() may be stale
   g_hsLastTickTime = server;
   g_hsServerOffset = HsServerOffsetSeconds(server);
   g_hsOffsetKnown = true;
  }

datetime HsServerNow(void)
  {
   if(!g_hsOffsetKnown)
      HsNoteTick();
   return (datetime)((long)TimeGMT() + g_hsServerOffset);
  }

//--- MT4 order times are whole seconds of the broker's server clock.
long HsServerTimeToUtcMs(const datetime serverTime)
  {
   if(!g_hsOffsetKnown)
      HsNoteTick();
   return ((long)serverTime - g_hsServerOffset) * 1000;
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
      case 4109:  // ERR_TRADE_NOT_ALLOWED
      case 4110:  // ERR_LONGS_NOT_ALLOWED
      case 4111:  // ERR_SHORTS_NOT_ALLOWED
         return HS_ERR_TRADE_DISABLED;
      case 149:   // ERR_TRADE_HEDGE_PROHIBITED
      case 150:   // ERR_TRADE_PROHIBITED_BY_FIFO
         return HS_ERR_HEDGING_PROHIBITED;
      case 138:   // ERR_REQUOTE
      case 135:   // ERR_PRICE_CHANGED
      case 136:   // ERR_OFF_QUOTES
      case 129:   // ERR_INVALID_PRICE
      case 4:     // ERR_SERVER_BUSY          refused before it was processed: nothing placed
      case 8:     // ERR_TOO_FREQUENT_REQUESTS
      case 137:   // ERR_BROKER_BUSY
      case 141:   // ERR_TOO_MANY_REQUESTS
      case 146:   // ERR_TRADE_CONTEXT_BUSY
         return HS_ERR_REQUOTE;
      case 128:   // ERR_TRADE_TIMEOUT        the order may exist: looked up before any answer
      case 6:     // ERR_NO_CONNECTION
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
   fill.errorCode = code == HS_ERR_TIMEOUT ? HS_ERR_REQUOTE : code;   // a busy context sent nothing
   fill.message = why;
   return false;
  }

//--- Errors after which the order may exist at the broker.
bool HsOutcomeUnknown(const int error)
  {
   return error == 128 || error == 6 || HsErrorCodeFor(error) == HS_ERR_UNKNOWN;
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
   return HS_REASON_UNKNOWN;             // by hand, by another EA or ours: MT4 cannot tell them apart
  }

#include "Lookup.mqh"

//--- MT4 market orders fill whole or not at all (no partial fills, no PLACED).
int HsOpenMarket(const string brokerSymbol, const bool buy, const double volume, const string comment,
                 HsFill &fill)
  {
   if(!HsPreTradeCheck(brokerSymbol, true, fill))
      return HS_SEND_REFUSED;
   RefreshRates();
   double price = MarketInfo(brokerSymbol, buy ? MODE_ASK : MODE_BID);
   if(price <= 0)
     {
      fill.errorCode = HS_ERR_MARKET_CLOSED;
      fill.message = "no price for " + brokerSymbol;
      return HS_SEND_REFUSED;
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
      return HsOutcomeUnknown(error) ? HS_SEND_UNKNOWN : HS_SEND_REFUSED;
     }
   fill.ticket = IntegerToString(ticket);
   fill.brokerSymbol = brokerSymbol;
   fill.volume = HsVolumeText(brokerSymbol, volume);
   if(OrderSelect(ticket, SELECT_BY_TICKET))
     {
      fill.price = HsPriceText(brokerSymbol, OrderOpenPrice());
      fill.timeMs = HsServerTimeToUtcMs(OrderOpenTime());
      fill.volume = HsVolumeText(brokerSymbol, OrderLots());
     }
   else
     {
      fill.price = HsPriceText(brokerSymbol, price);
      fill.timeMs = HsNowMs();
     }
   return HS_SEND_DONE;
  }

//--- MT4 pending orders of ours are never left (market orders only); deletes one if asked.
void HsCancelOrder(const string order)
  {
   int ticket = (int)StringToInteger(order);
   if(ticket > 0 && OrderSelect(ticket, SELECT_BY_TICKET) && OrderCloseTime() == 0 && OrderType() > OP_SELL)
      if(!OrderDelete(ticket))
         PrintFormat("HedgeSystem: could not delete order %s (error %d)", order, GetLastError());
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
