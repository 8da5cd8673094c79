//+------------------------------------------------------------------+
//| Journal.mqh - what this EA opened and closed, kept in a text     |
//| file so idempotent answers survive a restart and a shortened     |
//| comment still leads back to the full positionId.                 |
//| Lines (tab separated, appended):                                 |
//|   O ticket positionId symbol side volume openPrice openTimeMs    |
//|   C ticket closePrice closeTimeMs profit reason                  |
//|   A positionId timeMs   an order whose outcome stayed unknown    |
//| (reason AGENT: the agent's CLOSE). The open rows are indexed, so |
//| the stop scan looks only at them; at start-up a journal with     |
//| more than HS_JOURNAL_KEEP_CLOSED closed rows is rewritten with   |
//| the open rows, the unsettled A lines and the newest closes.      |
//| One source for MQL5 and MQL4 (ea/mql/common; hedge ea-install).  |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_JOURNAL_MQH
#define HEDGE_SYSTEM_JOURNAL_MQH

#define HS_JOURNAL_KEEP_CLOSED 1000

struct HsJournalRow
  {
   string            ticket;
   string            positionId;
   string            symbol;        // canonical
   string            side;
   string            volume;
   string            openPrice;
   long              openTimeMs;
   bool              closed;
   string            closePrice;
   long              closeTimeMs;
   string            profit;
   string            reason;
  };

class CHsJournal
  {
private:
   string            m_file;
   HsJournalRow      m_rows[];
   int               m_count;
   int               m_open[];              // indices of the rows still open
   string            m_unsettled[];         // positionIds of A lines without an O line since
   long              m_unsettledMs[];

   void              IndexOpen(void)
     {
      ArrayResize(m_open, 0);
      for(int i = 0; i < m_count; i++)
         if(!m_rows[i].closed)
           {
            int n = ArraySize(m_open);
            ArrayResize(m_open, n + 1, 64);
            m_open[n] = i;
           }
     }
   int               UnsettledIndex(const string positionId)
     {
      for(int i = 0; i < ArraySize(m_unsettled); i++)
         if(m_unsettled[i] == positionId)
            return i;
      return -1;
     }
   void              Settle(const string positionId)
     {
      int i = UnsettledIndex(positionId);
      if(i < 0)
         return;
      int n = ArraySize(m_unsettled);
      m_unsettled[i] = m_unsettled[n - 1];
      m_unsettledMs[i] = m_unsettledMs[n - 1];
      ArrayResize(m_unsettled, n - 1);
      ArrayResize(m_unsettledMs, n - 1);
     }
   string            OpenLine(const int i)
     {
      return "O\t" + m_rows[i].ticket + "\t" + m_rows[i].positionId + "\t" + m_rows[i].symbol + "\t"
             + m_rows[i].side + "\t" + m_rows[i].volume + "\t" + m_rows[i].openPrice + "\t"
             + IntegerToString(m_rows[i].openTimeMs);
     }
   string            CloseLine(const int i)
     {
      return "C\t" + m_rows[i].ticket + "\t" + m_rows[i].closePrice + "\t"
             + IntegerToString(m_rows[i].closeTimeMs) + "\t" + m_rows[i].profit + "\t" + m_rows[i].reason;
     }
   //--- Rewrites the file with the open rows, the newest closed rows and the unsettled A lines.
   void              Compact(void)
     {
      int closed = m_count - ArraySize(m_open);
      if(closed <= HS_JOURNAL_KEEP_CLOSED)
         return;
      int drop = closed - HS_JOURNAL_KEEP_CLOSED;
      HsJournalRow kept[];
      int n = 0;
      for(int i = 0; i < m_count; i++)
        {
         if(m_rows[i].closed && drop > 0)
           {
            drop--;
            continue;                          // the oldest closes go first
           }
         ArrayResize(kept, n + 1, 64);
         kept[n++] = m_rows[i];
        }
      string temporary = m_file + ".tmp";
      int h = FileOpen(temporary, FILE_WRITE | FILE_TXT | FILE_ANSI);
      if(h == INVALID_HANDLE)
        {
         PrintFormat("HedgeSystem: cannot compact journal %s (error %d); it stays as it is", m_file, GetLastError());
         return;
        }
      ArrayResize(m_rows, n);
      for(int i = 0; i < n; i++)
         m_rows[i] = kept[i];
      m_count = n;
      for(int i = 0; i < m_count; i++)
        {
         FileWriteString(h, OpenLine(i) + "\r\n");
         if(m_rows[i].closed)
            FileWriteString(h, CloseLine(i) + "\r\n");
        }
      for(int i = 0; i < ArraySize(m_unsettled); i++)
         FileWriteString(h, "A\t" + m_unsettled[i] + "\t" + IntegerToString(m_unsettledMs[i]) + "\r\n");
      FileClose(h);
      if(!FileMove(temporary, 0, m_file, FILE_REWRITE))
         PrintFormat("HedgeSystem: cannot replace journal %s (error %d)", m_file, GetLastError());
      IndexOpen();
      PrintFormat("HedgeSystem: journal compacted to %d rows", m_count);
     }

   bool              Append(const string line)
     {
      int h = FileOpen(m_file, FILE_READ | FILE_WRITE | FILE_TXT | FILE_ANSI | FILE_SHARE_READ);
      if(h == INVALID_HANDLE)
        {
         PrintFormat("HedgeSystem: cannot write journal %s (error %d)", m_file, GetLastError());
         return false;
        }
      FileSeek(h, 0, SEEK_END);
      FileWriteString(h, line + "\r\n");
      FileClose(h);
      return true;
     }
   int               NewRow(void)
     {
      ArrayResize(m_rows, m_count + 1, 64);
      m_rows[m_count].closed = false;
      m_rows[m_count].openTimeMs = 0;
      m_rows[m_count].closeTimeMs = 0;
      return m_count++;
     }
   void              Apply(const string line)
     {
      string f[];
      int n = StringSplit(line, '\t', f);
      if(n == 8 && f[0] == "O" && FindByTicket(f[1]) < 0)
        {
         int i = NewRow();
         m_rows[i].ticket = f[1];
         m_rows[i].positionId = f[2];
         m_rows[i].symbol = f[3];
         m_rows[i].side = f[4];
         m_rows[i].volume = f[5];
         m_rows[i].openPrice = f[6];
         m_rows[i].openTimeMs = StringToInteger(f[7]);
         Settle(f[2]);
        }
      else if(n == 3 && f[0] == "A" && FindByPositionId(f[1]) < 0 && UnsettledIndex(f[1]) < 0)
        {
         int k = ArraySize(m_unsettled);
         ArrayResize(m_unsettled, k + 1, 16);
         ArrayResize(m_unsettledMs, k + 1, 16);
         m_unsettled[k] = f[1];
         m_unsettledMs[k] = StringToInteger(f[2]);
        }
      else if(n == 6 && f[0] == "C")
        {
         int i = FindByTicket(f[1]);
         if(i < 0)
            return;
         m_rows[i].closed = true;
         m_rows[i].closePrice = f[2];
         m_rows[i].closeTimeMs = StringToInteger(f[3]);
         m_rows[i].profit = f[4];
         m_rows[i].reason = f[5];
        }
     }

public:
                     CHsJournal(void) : m_count(0) {}
   //--- Reads the journal of this account (file in the terminal's MQL Files folder).
   void              Load(const string file)
     {
      m_file = file;
      m_count = 0;
      ArrayResize(m_rows, 0);
      ArrayResize(m_unsettled, 0);
      ArrayResize(m_unsettledMs, 0);
      int h = FileOpen(m_file, FILE_READ | FILE_TXT | FILE_ANSI | FILE_SHARE_READ);
      if(h != INVALID_HANDLE)                 // else the first run: no journal yet
        {
         while(!FileIsEnding(h))
           {
            string line = FileReadString(h);
            if(line != "")
               Apply(line);
           }
         FileClose(h);
        }
      IndexOpen();
      Compact();
     }
   int               Count(void) { return m_count; }
   //--- The open rows, for the stop scan: OpenRow(k) is a row index for k < OpenCount().
   int               OpenCount(void) { return ArraySize(m_open); }
   int               OpenRow(const int k) { return m_open[k]; }
   //--- An order for positionId whose outcome stayed unknown (no second order is sent for it).
   bool              IsUnsettled(const string positionId) { return UnsettledIndex(positionId) >= 0; }
   void              RecordUnsettled(const string positionId, const long timeMs)
     {
      string line = "A\t" + positionId + "\t" + IntegerToString(timeMs);
      Append(line);
      Apply(line);
     }
   int               FindByTicket(const string ticket)
     {
      for(int i = m_count - 1; i >= 0; i--)
         if(m_rows[i].ticket == ticket)
            return i;
      return -1;
     }
   int               FindByPositionId(const string positionId)
     {
      for(int i = m_count - 1; i >= 0; i--)
         if(m_rows[i].positionId == positionId)
            return i;
      return -1;
     }
   //--- The full positionId whose shortened comment id is `shortId`, or "".
   string            PositionIdForShortId(const string shortId)
     {
      for(int i = m_count - 1; i >= 0; i--)
         if(StringFind(m_rows[i].positionId, shortId) == 0)
            return m_rows[i].positionId;
      return "";
     }
   string            Ticket(const int i)      { return m_rows[i].ticket; }
   string            PositionId(const int i)  { return m_rows[i].positionId; }
   string            Symbol(const int i)      { return m_rows[i].symbol; }
   string            OpenPrice(const int i)   { return m_rows[i].openPrice; }
   long              OpenTimeMs(const int i)  { return m_rows[i].openTimeMs; }
   bool              IsClosed(const int i)    { return m_rows[i].closed; }
   string            ClosePrice(const int i)  { return m_rows[i].closePrice; }
   long              CloseTimeMs(const int i) { return m_rows[i].closeTimeMs; }
   string            Profit(const int i)      { return m_rows[i].profit; }
   string            Reason(const int i)      { return m_rows[i].reason; }
   string            Volume(const int i)      { return m_rows[i].volume; }

   void              RecordOpen(const string ticket, const string positionId, const string symbol,
                                const string side, const string volume, const string openPrice,
                                const long openTimeMs)
     {
      string line = "O\t" + ticket + "\t" + positionId + "\t" + symbol + "\t" + side + "\t" + volume
                    + "\t" + openPrice + "\t" + IntegerToString(openTimeMs);
      Append(line);
      Apply(line);
      IndexOpen();
     }
   void              RecordClose(const string ticket, const string closePrice, const long closeTimeMs,
                                 const string profit, const string reason)
     {
      string line = "C\t" + ticket + "\t" + closePrice + "\t" + IntegerToString(closeTimeMs) + "\t"
                    + profit + "\t" + reason;
      Append(line);
      Apply(line);
      IndexOpen();
     }
  };

#endif
