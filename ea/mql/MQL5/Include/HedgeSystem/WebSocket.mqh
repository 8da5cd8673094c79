//+------------------------------------------------------------------+
//| WebSocket.mqh (MQL5) - an RFC 6455 client over the terminal's    |
//| own sockets (SocketCreate/SocketConnect/...); no DLL.            |
//| Client frames are masked, fragmented messages are joined, pings  |
//| are answered, a close is echoed. Messages over 64 KiB close the  |
//| connection with 1009, protocol errors with 1002.                 |
//| The host must be in Tools > Options > Expert Advisors > "Allow   |
//| WebRequest for listed URL", or SocketConnect fails (error 4014). |
//| MQL4 has its own WebSocket.mqh with the same class over a DLL.   |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_WEBSOCKET_MQH
#define HEDGE_SYSTEM_WEBSOCKET_MQH

#define HS_WS_MAX_MESSAGE   65536
#define HS_WS_OP_CONT       0x0
#define HS_WS_OP_TEXT       0x1
#define HS_WS_OP_BINARY     0x2
#define HS_WS_OP_CLOSE      0x8
#define HS_WS_OP_PING       0x9
#define HS_WS_OP_PONG       0xA
#define HS_WS_GUID          "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

class CHsWebSocket
  {
private:
   int               m_socket;
   bool              m_open;
   string            m_error;
   int               m_closeCode;
   uchar             m_rx[];          // bytes received and not yet parsed
   uchar             m_msg[];         // payload of the fragmented message being joined
   int               m_msgOpcode;     // -1 when no message is in progress

   //--- UTF-8 bytes of `s` without the terminating zero StringToCharArray adds.
   static int        Utf8(const string s, uchar &out[])
     {
      ArrayResize(out, 0);
      int n = StringToCharArray(s, out, 0, WHOLE_ARRAY, CP_UTF8);
      if(n > 0 && out[n - 1] == 0)
         n--;
      ArrayResize(out, n);
      return n;
     }
   //--- Drops the first `from` bytes of `buf`.
   static void       Shift(uchar &buf[], const int from)
     {
      int left = ArraySize(buf) - from;
      if(left <= 0)
        {
         ArrayResize(buf, 0);
         return;
        }
      uchar rest[];
      ArrayCopy(rest, buf, 0, from, left);
      ArrayResize(buf, 0);
      ArrayCopy(buf, rest);
     }
   static string     Base64(const uchar &data[])
     {
      uchar key[], out[];
      if(CryptEncode(CRYPT_BASE64, data, key, out) <= 0)
         return "";
      return CharArrayToString(out, 0, ArraySize(out), CP_ACP);
     }
   static string     AcceptFor(const string key)
     {
      uchar data[], empty[], digest[];
      Utf8(key + HS_WS_GUID, data);
      if(CryptEncode(CRYPT_HASH_SHA1, data, empty, digest) <= 0)
         return "";
      return Base64(digest);
     }
   bool              Fail(const string why)
     {
      m_error = why;
      Drop();
      return false;
     }
   void              Drop(void)
     {
      if(m_socket != INVALID_HANDLE)
         SocketClose(m_socket);
      m_socket = INVALID_HANDLE;
      m_open = false;
      ArrayResize(m_rx, 0);
      ArrayResize(m_msg, 0);
      m_msgOpcode = -1;
     }
   bool              SendAll(const uchar &bytes[], const int length)
     {
      int sent = 0;
      uchar rest[];
      while(sent < length)
        {
         ArrayResize(rest, 0);
         ArrayCopy(rest, bytes, 0, sent, length - sent);
         int n = SocketSend(m_socket, rest, length - sent);
         if(n <= 0)
            return Fail("SocketSend failed, error " + IntegerToString(GetLastError()));
         sent += n;
        }
      return true;
     }
   bool              SendFrame(const int opcode, const uchar &payload[], const int length)
     {
      if(m_socket == INVALID_HANDLE)
         return false;
      uchar frame[];
      int head = length < 126 ? 2 : (length < 65536 ? 4 : 10);
      ArrayResize(frame, head + 4 + length);
      frame[0] = (uchar)(0x80 | opcode);                   // FIN, never fragmented by us
      if(length < 126)
         frame[1] = (uchar)(0x80 | length);                // 0x80: client frames are masked
      else if(length < 65536)
        {
         frame[1] = (uchar)(0x80 | 126);
         frame[2] = (uchar)((length >> 8) & 0xFF);
         frame[3] = (uchar)(length & 0xFF);
        }
      else
        {
         frame[1] = (uchar)(0x80 | 127);
         for(int i = 0; i < 8; i++)
            frame[2 + i] = (uchar)(((ulong)length >> (8 * (7 - i))) & 0xFF);
        }
      uchar mask[4];
      for(int i = 0; i < 4; i++)
        {
         mask[i] = (uchar)(MathRand() & 0xFF);
         frame[head + i] = mask[i];
        }
      for(int i = 0; i < length; i++)
         frame[head + 4 + i] = (uchar)(payload[i] ^ mask[i % 4]);
      return SendAll(frame, ArraySize(frame));
     }
   //--- Reads the HTTP answer to the upgrade request; leftover bytes stay in m_rx.
   bool              ReadHandshake(const string key, const uint timeoutMs)
     {
      uint deadline = GetTickCount() + timeoutMs;
      int end = -1;
      while(end < 0)
        {
         if(GetTickCount() > deadline)
            return Fail("no WebSocket handshake answer within " + IntegerToString(timeoutMs) + " ms");
         uint ready = SocketIsReadable(m_socket);
         if(ready == 0)
           {
            if(!SocketIsConnected(m_socket))
               return Fail("connection closed during the handshake");
            Sleep(5);
            continue;
           }
         uchar chunk[];
         int n = SocketRead(m_socket, chunk, ready, 100);
         if(n < 0)
            return Fail("SocketRead failed, error " + IntegerToString(GetLastError()));
         int old = ArraySize(m_rx);
         ArrayResize(m_rx, old + n);
         if(n > 0)
            ArrayCopy(m_rx, chunk, old, 0, n);
         if(ArraySize(m_rx) > 16384)
            return Fail("handshake answer too long");
         for(int i = 3; i < ArraySize(m_rx) && end < 0; i++)
            if(m_rx[i - 3] == '\r' && m_rx[i - 2] == '\n' && m_rx[i - 1] == '\r' && m_rx[i] == '\n')
               end = i + 1;
        }
      string head = CharArrayToString(m_rx, 0, end, CP_ACP);
      Shift(m_rx, end);
      string lines[];
      int count = StringSplit(head, '\n', lines);
      if(count < 1 || StringFind(lines[0], " 101") < 0)
         return Fail("agent refused the WebSocket upgrade: " + (count > 0 ? lines[0] : head));
      string expected = AcceptFor(key);
      for(int i = 1; i < count; i++)
        {
         string line = lines[i];
         StringTrimRight(line);
         string lower = line;
         StringToLower(lower);
         if(StringFind(lower, "sec-websocket-accept:") == 0)
           {
            string value = StringSubstr(line, StringLen("sec-websocket-accept:"));
            StringTrimLeft(value);
            if(expected != "" && value != expected)
               return Fail("bad Sec-WebSocket-Accept");
            return true;
           }
        }
      return Fail("handshake answer has no Sec-WebSocket-Accept");
     }
   //--- Handles one complete frame. False when the connection must end.
   bool              OnFrame(const bool fin, const int opcode, const uchar &payload[], string &messages[])
     {
      int length = ArraySize(payload);
      if(opcode >= 0x8)
        {
         if(!fin || length > 125)
            return Protocol(1002, "fragmented or long control frame");
         if(opcode == HS_WS_OP_PING)
            return SendFrame(HS_WS_OP_PONG, payload, length);
         if(opcode == HS_WS_OP_PONG)
            return true;
         if(opcode == HS_WS_OP_CLOSE)
           {
            m_closeCode = length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
            uchar echo[2];
            echo[0] = (uchar)((m_closeCode >> 8) & 0xFF);
            echo[1] = (uchar)(m_closeCode & 0xFF);
            SendFrame(HS_WS_OP_CLOSE, echo, m_closeCode == 1005 ? 0 : 2);   // 1005 is never sent
            m_error = "agent closed the connection, code " + IntegerToString(m_closeCode);
            Drop();
            return false;
           }
         return Protocol(1002, "unknown control opcode");
        }
      if(opcode == HS_WS_OP_CONT)
        {
         if(m_msgOpcode < 0)
            return Protocol(1002, "continuation without a message");
        }
      else if(opcode == HS_WS_OP_TEXT || opcode == HS_WS_OP_BINARY)
        {
         if(m_msgOpcode >= 0)
            return Protocol(1002, "new message inside a fragmented one");
         m_msgOpcode = opcode;
         ArrayResize(m_msg, 0);
        }
      else
         return Protocol(1002, "unknown data opcode");
      int old = ArraySize(m_msg);
      if(old + length > HS_WS_MAX_MESSAGE)
         return Protocol(1009, "message over 64 KiB");
      ArrayResize(m_msg, old + length);
      if(length > 0)
         ArrayCopy(m_msg, payload, old, 0, length);
      if(!fin)
         return true;
      if(m_msgOpcode == HS_WS_OP_TEXT)
        {
         int n = ArraySize(messages);
         ArrayResize(messages, n + 1);
         messages[n] = CharArrayToString(m_msg, 0, ArraySize(m_msg), CP_UTF8);
        }
      // Binary messages are not part of the protocol and are dropped.
      m_msgOpcode = -1;
      ArrayResize(m_msg, 0);
      return true;
     }
   bool              Protocol(const int code, const string why)
     {
      Disconnect(code);
      m_error = why;
      return false;
     }

public:
                     CHsWebSocket(void) : m_socket(INVALID_HANDLE), m_open(false), m_closeCode(0), m_msgOpcode(-1) {}
                    ~CHsWebSocket(void) { Drop(); }
   bool              IsOpen(void) { return m_open; }
   string            LastError(void) { return m_error; }
   int               CloseCode(void) { return m_closeCode; }

   bool              Connect(const string host, const int port, const uint timeoutMs)
     {
      Drop();
      m_error = "";
      m_closeCode = 0;
      m_socket = SocketCreate();
      if(m_socket == INVALID_HANDLE)
         return Fail("SocketCreate failed, error " + IntegerToString(GetLastError()));
      if(!SocketConnect(m_socket, host, port, timeoutMs))
        {
         int err = GetLastError();
         return Fail("cannot connect to " + host + ":" + IntegerToString(port) + ", error "
                     + IntegerToString(err) + (err == 4014 ? " (add the address to the allowed list in "
                     + "Tools > Options > Expert Advisors)" : ""));
        }
      SocketTimeouts(m_socket, timeoutMs, timeoutMs);
      uchar nonce[16];
      for(int i = 0; i < 16; i++)
         nonce[i] = (uchar)(MathRand() & 0xFF);
      string key = Base64(nonce);
      string request = "GET / HTTP/1.1\r\n"
                       + "Host: " + host + ":" + IntegerToString(port) + "\r\n"
                       + "Upgrade: websocket\r\n"
                       + "Connection: Upgrade\r\n"
                       + "Sec-WebSocket-Key: " + key + "\r\n"
                       + "Sec-WebSocket-Version: 13\r\n\r\n";
      uchar bytes[];
      int n = Utf8(request, bytes);
      if(!SendAll(bytes, n))
         return false;
      if(!ReadHandshake(key, timeoutMs))
         return false;
      m_open = true;
      return true;
     }

   bool              SendText(const string text)
     {
      if(!m_open)
         return false;
      uchar bytes[];
      int n = Utf8(text, bytes);
      return SendFrame(HS_WS_OP_TEXT, bytes, n);
     }

   //--- Reads what has arrived and appends each complete text message to `messages`.
   //--- Never waits. Returns false when the connection is gone (see LastError/CloseCode).
   bool              Poll(string &messages[])
     {
      if(!m_open)
         return false;
      uint ready = SocketIsReadable(m_socket);
      if(ready == 0 && !SocketIsConnected(m_socket))
        {
         m_error = "connection lost";
         Drop();
         return false;
        }
      if(ready > 0)
        {
         uchar chunk[];
         int n = SocketRead(m_socket, chunk, ready, 10);
         if(n < 0)
           {
            m_error = "SocketRead failed, error " + IntegerToString(GetLastError());
            Drop();
            return false;
           }
         int old = ArraySize(m_rx);
         ArrayResize(m_rx, old + n);
         if(n > 0)
            ArrayCopy(m_rx, chunk, old, 0, n);
        }
      int pos = 0;
      int total = ArraySize(m_rx);
      while(total - pos >= 2)
        {
         bool fin = (m_rx[pos] & 0x80) != 0;
         if((m_rx[pos] & 0x70) != 0)
            return Protocol(1002, "reserved bits set");
         int opcode = m_rx[pos] & 0x0F;
         if((m_rx[pos + 1] & 0x80) != 0)
            return Protocol(1002, "server frames must not be masked");
         ulong length = m_rx[pos + 1] & 0x7F;
         int head = 2;
         if(length == 126)
           {
            if(total - pos < 4)
               break;
            length = ((ulong)m_rx[pos + 2] << 8) | m_rx[pos + 3];
            head = 4;
           }
         else if(length == 127)
           {
            if(total - pos < 10)
               break;
            length = 0;
            for(int i = 0; i < 8; i++)
               length = (length << 8) | m_rx[pos + 2 + i];
            head = 10;
           }
         if(length > HS_WS_MAX_MESSAGE)
            return Protocol(1009, "frame over 64 KiB");
         if((ulong)(total - pos - head) < length)
            break;                                         // frame not complete yet
         uchar payload[];
         ArrayResize(payload, (int)length);
         if(length > 0)
            ArrayCopy(payload, m_rx, 0, pos + head, (int)length);
         pos += head + (int)length;
         if(!OnFrame(fin, opcode, payload, messages))
            return false;
        }
      if(pos > 0)
         Shift(m_rx, pos);
      return true;
     }

   void              Disconnect(const int code)
     {
      if(m_open && m_socket != INVALID_HANDLE)
        {
         uchar payload[2];
         payload[0] = (uchar)((code >> 8) & 0xFF);
         payload[1] = (uchar)(code & 0xFF);
         SendFrame(HS_WS_OP_CLOSE, payload, 2);
        }
      Drop();
     }
  };

#endif
