//+------------------------------------------------------------------+
//| Outbox.mqh - the events the agent must get (answers, STOPPED),   |
//| in order, at least once: queued while the link is down, sent     |
//| after AUTH_OK, and what was sent lately is queued again when the |
//| link drops. Remembers the commandIds answered (one answer each). |
//| One source for MQL5 and MQL4 (ea/mql/common; hedge ea-install).  |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_OUTBOX_MQH
#define HEDGE_SYSTEM_OUTBOX_MQH

#include "WebSocket.mqh"

#define HS_OUTBOX_LIMIT         10000
#define HS_RESEND_WINDOW_MS     35000
#define HS_ANSWERED_MEMORY      2048

void HsPush(string &list[], const string item)
  {
   int n = ArraySize(list);
   ArrayResize(list, n + 1, 64);
   list[n] = item;
  }

void HsRemoveFirst(string &list[], const int count)
  {
   int n = ArraySize(list);
   for(int i = count; i < n; i++)
      list[i - count] = list[i];
   ArrayResize(list, (int)MathMax(n - count, 0));
  }

bool HsContains(const string &list[], const string value)
  {
   for(int i = 0; i < ArraySize(list); i++)
      if(list[i] == value)
         return true;
   return false;
  }

class CHsOutbox
  {
private:
   string            m_queue[];             // events the agent must get, oldest first
   string            m_sent[];              // sent lately; queued again after a reconnect
   long              m_sentAt[];
   string            m_answered[];          // commandIds answered (ring)
   int               m_answeredNext;

public:
                     CHsOutbox(void) : m_answeredNext(0) {}

   int               Pending(void) { return ArraySize(m_queue); }

   void              Enqueue(const string json)
     {
      if(ArraySize(m_queue) >= HS_OUTBOX_LIMIT)
        {
         Print("HedgeSystem: event queue full, dropping the oldest event: ", m_queue[0]);
         HsRemoveFirst(m_queue, 1);
        }
      HsPush(m_queue, json);
     }

   bool              IsAnswered(const string commandId)
     {
      return commandId != "" && HsContains(m_answered, commandId);
     }

   //--- Every command's single answer goes through here.
   void              Answer(const string commandId, const string json)
     {
      if(commandId != "")
        {
         if(ArraySize(m_answered) < HS_ANSWERED_MEMORY)
            HsPush(m_answered, commandId);
         else
           {
            m_answered[m_answeredNext] = commandId;
            m_answeredNext = (m_answeredNext + 1) % HS_ANSWERED_MEMORY;
           }
        }
      Enqueue(json);
     }

   //--- Sends what is queued; false when a send failed (the caller drops the link).
   bool              Flush(CHsWebSocket &ws, const long now, const long lastReceivedMs)
     {
      int sent = 0;
      bool ok = true;
      while(sent < ArraySize(m_queue))
        {
         if(!ws.SendText(m_queue[sent]))
           {
            ok = false;
            break;
           }
         HsPush(m_sent, m_queue[sent]);
         int n = ArraySize(m_sentAt);
         ArrayResize(m_sentAt, n + 1, 64);
         m_sentAt[n] = now;
         sent++;
        }
      HsRemoveFirst(m_queue, sent);
      //--- Forget sent events once the agent has spoken after them and they are old.
      int old = 0;
      while(old < ArraySize(m_sentAt) && now - m_sentAt[old] > HS_RESEND_WINDOW_MS && lastReceivedMs > m_sentAt[old])
         old++;
      if(old > 0)
        {
         HsRemoveFirst(m_sent, old);
         int n = ArraySize(m_sentAt);
         for(int i = old; i < n; i++)
            m_sentAt[i - old] = m_sentAt[i];
         ArrayResize(m_sentAt, n - old);
        }
      return ok;
     }

   //--- The link dropped: what may not have arrived goes first in the queue again, in order.
   void              Requeue(void)
     {
      string pending[];
      ArrayResize(pending, 0);
      for(int i = 0; i < ArraySize(m_sent); i++)
         HsPush(pending, m_sent[i]);
      for(int i = 0; i < ArraySize(m_queue); i++)
         HsPush(pending, m_queue[i]);
      ArrayResize(m_queue, 0);
      for(int i = 0; i < ArraySize(pending); i++)
         HsPush(m_queue, pending[i]);
      ArrayResize(m_sent, 0);
      ArrayResize(m_sentAt, 0);
     }
  };

#endif
