//+------------------------------------------------------------------+
//| WebSocket.mqh (MQL4) - the same CHsWebSocket class as the MQL5   |
//| one, over HedgeSystemWs.dll (ea/mql/dll: a thin C wrapper over   |
//| WinHTTP's WebSocket API). MQL4 has no sockets; the DLL goes into |
//| MQL4\Libraries and "Allow DLL imports" must be ticked.           |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_WEBSOCKET_MQH
#define HEDGE_SYSTEM_WEBSOCKET_MQH

#define HS_WS_MAX_MESSAGE 65536

#import "HedgeSystemWs.dll"
int  HsWsConnect(string host, int port, string path, int timeoutMs);
int  HsWsSend(int handle, uchar &data[], int length);
int  HsWsReceive(int handle, uchar &buffer[], int capacity);
int  HsWsCloseStatus(int handle);
int  HsWsLastError(int handle);
void HsWsClose(int handle, int code);
#import

class CHsWebSocket
  {
private:
   int               m_handle;
   string            m_error;
   int               m_closeCode;
   uchar             m_buffer[];

   void              Forget(void)
     {
      if(m_handle > 0)
         HsWsClose(m_handle, 1000);
      m_handle = 0;
     }

public:
                     CHsWebSocket(void) : m_handle(0), m_closeCode(0) { ArrayResize(m_buffer, HS_WS_MAX_MESSAGE); }
                    ~CHsWebSocket(void) { Forget(); }
   bool              IsOpen(void) { return m_handle > 0; }
   string            LastError(void) { return m_error; }
   int               CloseCode(void) { return m_closeCode; }

   bool              Connect(const string host, const int port, const uint timeoutMs)
     {
      Forget();
      m_error = "";
      m_closeCode = 0;
      if(!TerminalInfoInteger(TERMINAL_DLLS_ALLOWED) || !MQLInfoInteger(MQL_DLLS_ALLOWED))
        {
         m_error = "DLL imports are not allowed: tick \"Allow DLL imports\" for HedgeSystemEA";
         return false;
        }
      int handle = HsWsConnect(host, port, "/", (int)timeoutMs);
      if(handle <= 0)
        {
         m_error = "cannot connect to " + host + ":" + IntegerToString(port) + ", WinHTTP error "
                   + IntegerToString(-handle);
         return false;
        }
      m_handle = handle;
      return true;
     }

   bool              SendText(const string text)
     {
      if(m_handle <= 0)
         return false;
      uchar bytes[];
      int n = StringToCharArray(text, bytes, 0, WHOLE_ARRAY, CP_UTF8);
      if(n > 0 && bytes[n - 1] == 0)
         n--;                                // StringToCharArray adds a terminating zero
      if(HsWsSend(m_handle, bytes, n) == 1)
         return true;
      m_error = "send failed, WinHTTP error " + IntegerToString(HsWsLastError(m_handle));
      return false;
     }

   //--- Appends every message the DLL has queued to `messages`. False when the link is gone.
   bool              Poll(string &messages[])
     {
      if(m_handle <= 0)
         return false;
      while(true)
        {
         int n = HsWsReceive(m_handle, m_buffer, ArraySize(m_buffer));
         if(n == 0)
            return true;
         if(n > 0)
           {
            int count = ArraySize(messages);
            ArrayResize(messages, count + 1);
            messages[count] = CharArrayToString(m_buffer, 0, n, CP_UTF8);
            continue;
           }
         m_closeCode = HsWsCloseStatus(m_handle);
         m_error = n == -2 ? "message over 64 KiB"
                   : "connection closed (code " + IntegerToString(m_closeCode) + ", WinHTTP error "
                   + IntegerToString(HsWsLastError(m_handle)) + ")";
         HsWsClose(m_handle, n == -2 ? 1009 : 1000);
         m_handle = 0;
         return false;
        }
      return false;
     }

   void              Disconnect(const int code)
     {
      if(m_handle > 0)
         HsWsClose(m_handle, code);
      m_handle = 0;
     }
  };

#endif
