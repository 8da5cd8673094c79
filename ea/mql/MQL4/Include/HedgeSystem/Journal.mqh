//+------------------------------------------------------------------+
//| Journal.mqh - what this EA opened and closed, kept in a text     |
//| file so idempotent answers survive a restart and a shortened     |
//| comment still leads back to the full positionId.                 |
//| Lines (tab separated, appended, never edited):                   |
//|   O ticket positionId symbol side volume openPrice openTimeMs    |
//|   C ticket closePrice closeTimeMs profit reason                  |
//| Shared verbatim by MQL5 and MQL4 (the drift test checks that).   |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_JOURNAL_MQH
#define HEDGE_SYSTEM_JOURNAL_MQH

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
      int h = FileOpen(m_file, FILE_READ | FILE_TXT | FILE_ANSI | FILE_SHARE_READ);
      if(h == INVALID_HANDLE)
         return;                              // first run: no journal yet
      while(!FileIsEnding(h))
        {
         string line = FileReadString(h);
         if(line != "")
            Apply(line);
        }
      FileClose(h);
     }
   int               Count(void) { return m_count; }
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

   void              RecordOpen(const string ticket, const string positionId, const string symbol,
                                const string side, const string volume, const string openPrice,
                                const long openTimeMs)
     {
      string line = "O\t" + ticket + "\t" + positionId + "\t" + symbol + "\t" + side + "\t" + volume
                    + "\t" + openPrice + "\t" + IntegerToString(openTimeMs);
      Append(line);
      Apply(line);
     }
   void              RecordClose(const string ticket, const string closePrice, const long closeTimeMs,
                                 const string profit, const string reason)
     {
      string line = "C\t" + ticket + "\t" + closePrice + "\t" + IntegerToString(closeTimeMs) + "\t"
                    + profit + "\t" + reason;
      Append(line);
      Apply(line);
     }
  };

#endif
