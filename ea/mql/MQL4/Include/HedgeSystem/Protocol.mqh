//+------------------------------------------------------------------+
//| Protocol.mqh - the EA protocol's messages (see                   |
//| docs/ea-protocol.md): reading agent commands with their checks,  |
//| and writing EA events. No trading, no sockets.                   |
//| Shared verbatim by MQL5 and MQL4 (the drift test checks that).   |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_PROTOCOL_MQH
#define HEDGE_SYSTEM_PROTOCOL_MQH

#include "Json.mqh"

#define HS_EA_VERSION        "1.0.0"
#define HS_COMMENT_PREFIX    "HedgeSystem["
#define HS_COMMENT_MAX_LEN   31          // MetaTrader keeps at most 31 characters of a comment

//--- errorCode values (contract: "errorCode values the EA may send").
#define HS_ERR_INVALID_VOLUME   "INVALID_VOLUME"
#define HS_ERR_INVALID_SYMBOL   "INVALID_SYMBOL"
#define HS_ERR_NOT_ENOUGH_MONEY "NOT_ENOUGH_MONEY"
#define HS_ERR_MARKET_CLOSED    "MARKET_CLOSED"
#define HS_ERR_TRADE_DISABLED   "TRADE_DISABLED"
#define HS_ERR_REQUOTE          "REQUOTE"
#define HS_ERR_TIMEOUT          "TIMEOUT"
#define HS_ERR_UNKNOWN          "UNKNOWN"
#define HS_ERR_BAD_MESSAGE      "BAD_MESSAGE"

//--- STOPPED reasons (our choice; the contract leaves `reason` free text).
#define HS_REASON_STOP_OUT    "STOP_OUT"
#define HS_REASON_STOP_LOSS   "STOP_LOSS"
#define HS_REASON_TAKE_PROFIT "TAKE_PROFIT"
#define HS_REASON_MANUAL      "MANUAL"
#define HS_REASON_EXPERT      "EXPERT"
#define HS_REASON_OTHER       "OTHER"

//--- One agent -> EA frame after its checks. Only the fields of `type` are set.
struct HsCommand
  {
   string            type;
   string            commandId;
   string            positionId;
   string            symbol;
   string            side;
   double            volume;
   string            comment;
   string            mtTicket;
   string            symbols[];
   long              pingId;
   string            accountId;
   string            reason;
  };

//--- The trade comment that marks our position. The contract's form is HedgeSystem[<positionId>];
//--- MetaTrader cuts comments at 31 characters, so a longer id (a UUID is 36) is shortened to
//--- its first characters and the full id is kept in the journal (Journal.mqh).
string HsCommentFor(const string positionId)
  {
   string full = HS_COMMENT_PREFIX + positionId + "]";
   if(StringLen(full) <= HS_COMMENT_MAX_LEN)
      return full;
   int keep = HS_COMMENT_MAX_LEN - StringLen(HS_COMMENT_PREFIX) - 1;
   return HS_COMMENT_PREFIX + StringSubstr(positionId, 0, keep) + "]";
  }

//--- The id inside HedgeSystem[...] (possibly shortened), or "" when the comment is not ours.
string HsIdFromComment(const string comment)
  {
   if(StringFind(comment, HS_COMMENT_PREFIX) != 0)
      return "";
   int close = StringFind(comment, "]", StringLen(HS_COMMENT_PREFIX));
   if(close < 0)
      return "";
   return StringSubstr(comment, StringLen(HS_COMMENT_PREFIX), close - StringLen(HS_COMMENT_PREFIX));
  }

//--- Field readers: false with `error` set when the field is missing or of the wrong type.
bool HsReadString(CHsJsonNode *msg, const string name, string &out, string &error)
  {
   CHsJsonNode *v = msg.Get(name);
   if(v == NULL || v.type != HS_JSON_STRING)
     {
      error = "field " + name + " must be a string";
      return false;
     }
   if(v.text == "")
     {
      error = "field " + name + " must not be empty";
      return false;
     }
   out = v.text;
   return true;
  }

bool HsReadPositiveNumber(CHsJsonNode *msg, const string name, double &out, string &error)
  {
   CHsJsonNode *v = msg.Get(name);
   if(v == NULL || v.type != HS_JSON_NUMBER)
     {
      error = "field " + name + " must be a number";
      return false;
     }
   if(!MathIsValidNumber(v.number) || v.number <= 0.0)
     {
      error = "field " + name + " must be > 0, was " + v.text;
      return false;
     }
   out = v.number;
   return true;
  }

bool HsIsDigits(const string s)
  {
   int n = StringLen(s);
   if(n == 0 || n > 20)
      return false;
   for(int i = 0; i < n; i++)
     {
      ushort c = StringGetCharacter(s, i);
      if(c < '0' || c > '9')
         return false;
     }
   return true;
  }

bool HsReadFields(CHsJsonNode *msg, HsCommand &cmd, string &error)
  {
   string t = cmd.type;
   if(t == "PING" || t == "PONG")
     {
      CHsJsonNode *id = msg.Get("id");
      if(id == NULL || id.type != HS_JSON_NUMBER || StringFind(id.text, ".") >= 0)
        {
         error = "field id must be an integer";
         return false;
        }
      cmd.pingId = StringToInteger(id.text);
      return true;
     }
   if(t == "AUTH_OK")
      return HsReadString(msg, "accountId", cmd.accountId, error);
   if(t == "AUTH_FAILED")
     {
      CHsJsonNode *r = msg.Get("reason");
      cmd.reason = (r != NULL && r.type == HS_JSON_STRING) ? r.text : "";
      return true;
     }
   if(t == "SUBSCRIBE")
     {
      CHsJsonNode *list = msg.Get("symbols");
      if(list == NULL || list.type != HS_JSON_ARRAY)
        {
         error = "field symbols must be a list of strings";
         return false;
        }
      ArrayResize(cmd.symbols, list.Count());
      for(int i = 0; i < list.Count(); i++)
        {
         CHsJsonNode *s = list.At(i);
         if(s.type != HS_JSON_STRING || s.text == "")
           {
            error = "field symbols must be a list of strings";
            return false;
           }
         cmd.symbols[i] = s.text;
        }
      return true;
     }
   if(t != "OPEN" && t != "CLOSE" && t != "SYNC")
     {
      error = "unknown type " + t;
      return false;
     }
   if(!HsReadString(msg, "commandId", cmd.commandId, error))
      return false;
   if(t == "SYNC")
      return true;
   if(!HsReadString(msg, "positionId", cmd.positionId, error))
      return false;
   if(t == "CLOSE")
     {
      if(!HsReadString(msg, "mtTicket", cmd.mtTicket, error))
         return false;
      if(!HsIsDigits(cmd.mtTicket))
        {
         error = "field mtTicket must be a ticket number in a string, was " + cmd.mtTicket;
         return false;
        }
      return true;
     }
   //--- OPEN
   if(!HsReadString(msg, "symbol", cmd.symbol, error))
      return false;
   if(!HsReadString(msg, "side", cmd.side, error))
      return false;
   if(cmd.side != "BUY" && cmd.side != "SELL")
     {
      error = "field side must be BUY or SELL, was " + cmd.side;
      return false;
     }
   if(!HsReadPositiveNumber(msg, "volume", cmd.volume, error))
      return false;
   CHsJsonNode *c = msg.Get("comment");
   if(c != NULL && c.type != HS_JSON_STRING)
     {
      error = "field comment must be a string";
      return false;
     }
   cmd.comment = HsCommentFor(cmd.positionId);   // the one form we write and search for
   return true;
  }

//--- Reads and checks one frame. False means BAD_MESSAGE with `error`; cmd.commandId is set
//--- whenever the frame carried a string commandId, so the ERROR can name it.
bool HsParseCommand(const string frame, HsCommand &cmd, string &error)
  {
   cmd.type = "";
   cmd.commandId = "";
   ArrayResize(cmd.symbols, 0);
   CHsJsonParser parser;
   CHsJsonNode *msg = parser.Parse(frame);
   if(msg == NULL)
     {
      error = "not JSON: " + parser.Error();
      return false;
     }
   bool ok = true;
   if(msg.type != HS_JSON_OBJECT)
     {
      error = "a frame must be a JSON object";
      ok = false;
     }
   CHsJsonNode *id = msg.Get("commandId");
   if(id != NULL && id.type == HS_JSON_STRING)
      cmd.commandId = id.text;
   if(ok)
      ok = HsReadString(msg, "type", cmd.type, error);
   if(ok)
      ok = HsReadFields(msg, cmd, error);
   delete msg;
   return ok;
  }

//--- Wall-clock UTC in milliseconds. TimeGMT() has whole seconds; the sub-second part is the
//--- GetTickCount() time since TimeGMT() last changed, so it is right to within one timer period.
long HsNowMs(void)
  {
   static datetime lastSecond = 0;
   static uint     tickAtSecond = 0;
   datetime now = TimeGMT();
   uint ticks = GetTickCount();
   if(now != lastSecond)
     {
      lastSecond = now;
      tickAtSecond = ticks;
     }
   uint part = ticks - tickAtSecond;
   if(part > 999)
      part = 999;
   return (long)now * 1000 + part;
  }

//--- The broker's server clock minus UTC, rounded to a quarter hour (server times are offset
//--- by whole hours or half hours; rounding hides the age of the last quote).
long HsServerOffsetSeconds(const datetime serverNow)
  {
   long diff = (long)serverNow - (long)TimeGMT();
   return (long)MathRound(diff / 900.0) * 900;
  }

//--- Event builders -------------------------------------------------

string HsAuthMessage(const string token, const string platform)
  {
   CHsJsonWriter w;
   w.Str("type", "AUTH");
   w.Str("token", token);
   w.Str("accountNumber", IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN)));
   w.Str("serverName", AccountInfoString(ACCOUNT_SERVER));
   w.Str("platform", platform);
   w.Str("eaVersion", HS_EA_VERSION);
   return w.Text();
  }

string HsPingMessage(const string type, const long id)
  {
   CHsJsonWriter w;
   w.Str("type", type);                      // "PING" or "PONG"
   w.Long("id", id);
   return w.Text();
  }

string HsErrorMessage(const string code, const string message, const string commandId)
  {
   CHsJsonWriter w;
   w.Str("type", "ERROR");
   w.Str("code", code);
   w.Str("message", message);
   if(commandId != "")
      w.Str("commandId", commandId);
   return w.Text();
  }

string HsOpenedSuccess(const string commandId, const string positionId, const string ticket,
                       const string price, const long timeMs)
  {
   CHsJsonWriter w;
   w.Str("type", "OPENED");
   w.Str("commandId", commandId);
   w.Str("positionId", positionId);
   w.Str("status", "SUCCESS");
   w.Str("mtTicket", ticket);
   w.Num("price", price);
   w.Long("timeMs", timeMs);
   return w.Text();
  }

string HsOpenedFailed(const string commandId, const string positionId, const string errorCode,
                      const string message)
  {
   CHsJsonWriter w;
   w.Str("type", "OPENED");
   w.Str("commandId", commandId);
   w.Str("positionId", positionId);
   w.Str("status", "FAILED");
   w.Str("errorCode", errorCode);
   w.Str("message", message);
   return w.Text();
  }

string HsClosedSuccess(const string commandId, const string positionId, const string ticket,
                       const string price, const long timeMs, const string profit)
  {
   CHsJsonWriter w;
   w.Str("type", "CLOSED");
   w.Str("commandId", commandId);
   w.Str("positionId", positionId);
   w.Str("mtTicket", ticket);
   w.Str("status", "SUCCESS");
   w.Num("price", price);
   w.Long("timeMs", timeMs);
   w.Num("profit", profit);
   return w.Text();
  }

string HsClosedFailed(const string commandId, const string positionId, const string ticket,
                      const string errorCode, const string message)
  {
   CHsJsonWriter w;
   w.Str("type", "CLOSED");
   w.Str("commandId", commandId);
   w.Str("positionId", positionId);
   w.Str("mtTicket", ticket);
   w.Str("status", "FAILED");
   w.Str("errorCode", errorCode);
   w.Str("message", message);
   return w.Text();
  }

string HsStoppedMessage(const string positionId, const string ticket, const string price,
                        const long timeMs, const string profit, const string reason)
  {
   CHsJsonWriter w;
   w.Str("type", "STOPPED");
   w.Str("positionId", positionId);
   w.Str("mtTicket", ticket);
   w.Num("price", price);
   w.Long("timeMs", timeMs);
   w.Num("profit", profit);
   w.Str("reason", reason);
   return w.Text();
  }

string HsPriceMessage(const string symbol, const string bid, const string ask, const long timeMs)
  {
   CHsJsonWriter w;
   w.Str("type", "PRICE");
   w.Str("symbol", symbol);
   w.Num("bid", bid);
   w.Num("ask", ask);
   w.Long("timeMs", timeMs);
   return w.Text();
  }

string HsAccountMessage(const long timeMs)
  {
   CHsJsonWriter w;
   w.Str("type", "ACCOUNT");
   w.Num("balance", DoubleToString(AccountInfoDouble(ACCOUNT_BALANCE), 2));
   w.Num("credit", DoubleToString(AccountInfoDouble(ACCOUNT_CREDIT), 2));
   w.Num("equity", DoubleToString(AccountInfoDouble(ACCOUNT_EQUITY), 2));
   w.Num("margin", DoubleToString(AccountInfoDouble(ACCOUNT_MARGIN), 2));
   w.Num("marginLevel", DoubleToString(AccountInfoDouble(ACCOUNT_MARGIN_LEVEL), 2));
   w.Str("currency", AccountInfoString(ACCOUNT_CURRENCY));
   w.Long("timeMs", timeMs);
   return w.Text();
  }

//--- One element of POSITIONS.positions.
string HsPositionItem(const string positionId, const string ticket, const string symbol,
                      const string side, const string volume, const string openPrice,
                      const long openTimeMs, const string profit)
  {
   CHsJsonWriter w;
   w.Str("positionId", positionId);
   w.Str("mtTicket", ticket);
   w.Str("symbol", symbol);
   w.Str("side", side);
   w.Num("volume", volume);
   w.Num("openPrice", openPrice);
   w.Long("openTimeMs", openTimeMs);
   w.Num("profit", profit);
   return w.Text();
  }

string HsPositionsMessage(const string commandId, const string &items[], const int count)
  {
   string list = "";
   for(int i = 0; i < count; i++)
      list += (i > 0 ? "," : "") + items[i];
   CHsJsonWriter w;
   w.Str("type", "POSITIONS");
   w.Str("commandId", commandId);
   w.Raw("positions", "[" + list + "]");
   return w.Text();
  }

#endif
