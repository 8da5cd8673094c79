//+------------------------------------------------------------------+
//| Lookup.mqh (MQL4) - what the terminal holds and held: open       |
//| orders, the order history (net profit, close reasons from the    |
//| server's comment marks), where an order of unknown outcome went, |
//| and SYMBOLS figures. Included by Trade.mqh; same functions as    |
//| the MQL5 one.                                                    |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_LOOKUP_MQH
#define HEDGE_SYSTEM_LOOKUP_MQH

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

//--- Where did an order go whose answer was lost (timeout, no connection)? Open orders of ours
//--- (magic + comment), then the history of the last day. MT4 fills market orders whole.
int HsFindOrder(const string brokerSymbol, const string comment, const string order, HsFill &fill)
  {
   for(int i = OrdersTotal() - 1; i >= 0; i--)
     {
      if(!OrderSelect(i, SELECT_BY_POS, MODE_TRADES) || OrderMagicNumber() != g_hsMagic
         || OrderSymbol() != brokerSymbol || StringFind(OrderComment(), comment) != 0)
         continue;
      if(OrderType() > OP_SELL)
        {
         fill.order = IntegerToString(OrderTicket());
         return HS_FOUND_PENDING;
        }
      HsOpenRow row;
      HsReadSelectedOrder(row);
      fill.ticket = row.ticket;
      fill.brokerSymbol = brokerSymbol;
      fill.price = row.openPrice;
      fill.timeMs = row.openTimeMs;
      fill.volume = HsVolumeText(brokerSymbol, row.volume);
      return HS_FOUND_FILLED;
     }
   datetime since = (datetime)((long)HsServerNow() - 86400);
   for(int i = OrdersHistoryTotal() - 1; i >= 0; i--)
     {
      if(!OrderSelect(i, SELECT_BY_POS, MODE_HISTORY) || OrderOpenTime() < since || OrderMagicNumber() != g_hsMagic
         || OrderSymbol() != brokerSymbol || StringFind(OrderComment(), comment) != 0
         || (OrderType() != OP_BUY && OrderType() != OP_SELL))
         continue;
      fill.ticket = IntegerToString(OrderTicket());
      fill.brokerSymbol = brokerSymbol;
      fill.price = HsPriceText(brokerSymbol, OrderOpenPrice());
      fill.timeMs = HsServerTimeToUtcMs(OrderOpenTime());
      fill.volume = HsVolumeText(brokerSymbol, OrderLots());
      return HS_FOUND_FILLED;                // closed since: the stop scan reports it
     }
   return HS_FOUND_NONE;
  }

//--- HISTORY for a positionId the journal does not know: a closed order whose comment starts with
//--- ours (the server may append [sl], [tp]). Only as far back as the History tab shows.
bool HsFindClosedByComment(const string comment, HsFill &fill)
  {
   for(int i = OrdersHistoryTotal() - 1; i >= 0; i--)
     {
      if(!OrderSelect(i, SELECT_BY_POS, MODE_HISTORY) || StringFind(OrderComment(), comment) != 0
         || (OrderType() != OP_BUY && OrderType() != OP_SELL))
         continue;
      return HsClosedSummary(IntegerToString(OrderTicket()), fill);
     }
   return false;
  }

//--- One SYMBOLS entry: MODE_MARGINREQUIRED (margin of one lot), MODE_TICKVALUE per point.
string HsSymbolsItem(const string brokerSymbol)
  {
   double needed = MarketInfo(brokerSymbol, MODE_MARGINREQUIRED);
   double value = MarketInfo(brokerSymbol, MODE_TICKVALUE);
   double size = MarketInfo(brokerSymbol, MODE_TICKSIZE);
   double point = MarketInfo(brokerSymbol, MODE_POINT);
   string margin = needed > 0 ? DoubleToString(needed, 2) : "";
   string tickValue = (value > 0 && size > 0 && point > 0) ? DoubleToString(value * point / size, 5) : "";
   return HsSymbolItem(brokerSymbol, margin, tickValue);
  }

//--- MQL4 sees closed orders only as far as the terminal's History tab shows them.
string HsHistoryNote(void)
  {
   return " (MT4 sees closed orders only as far as the History tab shows them: right-click the "
          + "Account History tab and choose All History)";
  }

#endif
