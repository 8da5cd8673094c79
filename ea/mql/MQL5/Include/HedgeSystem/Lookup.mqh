//+------------------------------------------------------------------+
//| Lookup.mqh (MQL5) - what the terminal holds and held: open       |
//| positions, the deal history (net profit, close reasons), where   |
//| an order of unknown outcome went, and SYMBOLS figures. Included  |
//| by Trade.mqh; MQL4 has the same functions.                       |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_LOOKUP_MQH
#define HEDGE_SYSTEM_LOOKUP_MQH

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
   row.profit = DoubleToString(PositionGetDouble(POSITION_PROFIT) + PositionGetDouble(POSITION_SWAP)
                               + HsEntryCosts((ulong)PositionGetInteger(POSITION_IDENTIFIER)), 2);
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
         fill.reason = HsReasonFor(HistoryDealGetInteger(deal, DEAL_REASON),
                                   (ulong)HistoryDealGetInteger(deal, DEAL_MAGIC));
        }
     }
   if(!closed)
      return false;
   fill.ticket = ticket;
   fill.profit = DoubleToString(net, 2);
   return true;
  }

//--- Commission and fee booked so far on a position's deals (MT5 positions carry no commission).
double HsEntryCosts(const ulong positionId)
  {
   if(!HistorySelectByPosition(positionId))
      return 0.0;
   double costs = 0.0;
   for(int i = 0; i < HistoryDealsTotal(); i++)
     {
      ulong deal = HistoryDealGetTicket(i);
      if(deal > 0)
         costs += HistoryDealGetDouble(deal, DEAL_COMMISSION) + HistoryDealGetDouble(deal, DEAL_FEE);
     }
   return costs;
  }

//--- Where did an order go whose answer was lost or not final (TIMEOUT, CONNECTION, PLACED)? Looks
//--- at open positions (magic + comment), pending orders (the ticket, else magic + comment) and
//--- the deals of the last day (the order, else magic + comment). FILLED sets ticket, price, time
//--- and volume (fill.order when part of the order is still pending), PENDING sets fill.order.
int HsFindOrder(const string brokerSymbol, const string comment, const string order, HsFill &fill)
  {
   ulong orderTicket = (ulong)StringToInteger(order);
   for(int i = PositionsTotal() - 1; i >= 0; i--)
     {
      if(PositionGetTicket(i) == 0 || (ulong)PositionGetInteger(POSITION_MAGIC) != g_hsMagic
         || PositionGetString(POSITION_SYMBOL) != brokerSymbol || PositionGetString(POSITION_COMMENT) != comment)
         continue;
      HsOpenRow row;
      HsReadSelectedPosition(row);
      fill.ticket = row.ticket;
      fill.brokerSymbol = brokerSymbol;
      fill.price = row.openPrice;
      fill.timeMs = row.openTimeMs;
      fill.volume = HsVolumeText(brokerSymbol, row.volume);
      fill.order = (orderTicket > 0 && OrderSelect(orderTicket)) ? order : "";
      return HS_FOUND_FILLED;
     }
   for(int i = OrdersTotal() - 1; i >= 0; i--)
     {
      ulong ticket = OrderGetTicket(i);
      if(ticket == 0)
         continue;
      if(ticket == orderTicket || ((ulong)OrderGetInteger(ORDER_MAGIC) == g_hsMagic
                                   && OrderGetString(ORDER_COMMENT) == comment))
        {
         fill.order = IntegerToString((long)ticket);
         return HS_FOUND_PENDING;
        }
     }
   datetime now = TimeTradeServer();
   if(!HistorySelect(now - 86400, now + 3600))
      return HS_FOUND_NONE;
   for(int i = HistoryDealsTotal() - 1; i >= 0; i--)
     {
      ulong deal = HistoryDealGetTicket(i);
      if(deal == 0 || (ENUM_DEAL_ENTRY)HistoryDealGetInteger(deal, DEAL_ENTRY) != DEAL_ENTRY_IN)
         continue;
      bool mine = (orderTicket > 0 && (ulong)HistoryDealGetInteger(deal, DEAL_ORDER) == orderTicket)
                  || ((ulong)HistoryDealGetInteger(deal, DEAL_MAGIC) == g_hsMagic
                      && HistoryDealGetString(deal, DEAL_COMMENT) == comment);
      if(!mine)
         continue;
      fill.ticket = IntegerToString(HistoryDealGetInteger(deal, DEAL_POSITION_ID));
      fill.brokerSymbol = HistoryDealGetString(deal, DEAL_SYMBOL);
      fill.price = HsPriceText(fill.brokerSymbol, HistoryDealGetDouble(deal, DEAL_PRICE));
      fill.timeMs = HsServerMsToUtc((long)HistoryDealGetInteger(deal, DEAL_TIME_MSC));
      fill.volume = HsVolumeText(fill.brokerSymbol, HistoryDealGetDouble(deal, DEAL_VOLUME));
      return HS_FOUND_FILLED;                // held or closed since: the stop scan tells the rest
     }
   return HS_FOUND_NONE;
  }

//--- HISTORY for a positionId the journal does not know: its opening deal by magic + comment,
//--- then the position's close. False when nothing is found (or it is still open).
bool HsFindClosedByComment(const string comment, HsFill &fill)
  {
   if(!HistorySelect(0, TimeTradeServer() + 3600))
      return false;
   for(int i = HistoryDealsTotal() - 1; i >= 0; i--)
     {
      ulong deal = HistoryDealGetTicket(i);
      if(deal == 0 || (ENUM_DEAL_ENTRY)HistoryDealGetInteger(deal, DEAL_ENTRY) != DEAL_ENTRY_IN
         || HistoryDealGetString(deal, DEAL_COMMENT) != comment)
         continue;
      return HsClosedSummary(IntegerToString(HistoryDealGetInteger(deal, DEAL_POSITION_ID)), fill);
     }
   return false;
  }

//--- One SYMBOLS entry: margin of one lot from OrderCalcMargin, tick value per point.
string HsSymbolsItem(const string brokerSymbol)
  {
   string margin = "";
   double needed = 0.0;
   double ask = SymbolInfoDouble(brokerSymbol, SYMBOL_ASK);
   if(ask > 0 && OrderCalcMargin(ORDER_TYPE_BUY, brokerSymbol, 1.0, ask, needed) && needed >= 0)
      margin = DoubleToString(needed, 2);
   string tickValue = "";
   double value = SymbolInfoDouble(brokerSymbol, SYMBOL_TRADE_TICK_VALUE);
   double size = SymbolInfoDouble(brokerSymbol, SYMBOL_TRADE_TICK_SIZE);
   double point = SymbolInfoDouble(brokerSymbol, SYMBOL_POINT);
   if(value > 0 && size > 0 && point > 0)
      tickValue = DoubleToString(value * point / size, 5);
   return HsSymbolItem(brokerSymbol, margin, tickValue);
  }

//--- MQL5 reads the whole deal history itself: nothing to tell the trader.
string HsHistoryNote(void) { return ""; }

#endif
