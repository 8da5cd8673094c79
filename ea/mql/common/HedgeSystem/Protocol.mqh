//+------------------------------------------------------------------+
//| Protocol.mqh - the EA protocol (docs/ea-protocol.md): codes,     |
//| reasons, and reading agent commands with their checks; the event |
//| builders are in Messages.mqh. No trading, no sockets.            |
//| One source for MQL5 and MQL4 (ea/mql/common; hedge ea-install).  |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_PROTOCOL_MQH
#define HEDGE_SYSTEM_PROTOCOL_MQH

#include "Json.mqh"

#define HS_EA_VERSION        "1.1.0"
#define HS_COMMENT_PREFIX    "HedgeSystem["
#define HS_COMMENT_MAX_LEN   31          // MetaTrader keeps at most 31 characters of a comment

//--- errorCode values (contract: "errorCode values the EA may send").
#define HS_ERR_INVALID_VOLUME   "INVALID_VOLUME"
#define HS_ERR_INVALID_SYMBOL   "INVALID_SYMBOL"
#define HS_ERR_NOT_ENOUGH_MONEY "NOT_ENOUGH_MONEY"
#define HS_ERR_MARKET_CLOSED    "MARKET_CLOSED"
#define HS_ERR_TRADE_DISABLED   "TRADE_DISABLED"
#define HS_ERR_REQUOTE          "REQUOTE"
#define HS_ERR_TIMEOUT          "TIMEOUT"            // the outcome is unknown: looked up before answering
#define HS_ERR_HEDGING_PROHIBITED "HEDGING_PROHIBITED" // FIFO / netting accounts (MT4 149, 150)
#define HS_ERR_UNKNOWN          "UNKNOWN"
#define HS_ERR_BAD_MESSAGE      "BAD_MESSAGE"

//--- STOPPED and HISTORY_RESULT reasons. Only STOP_OUT fires the agent's trigger actions.
#define HS_REASON_STOP_OUT       "STOP_OUT"
#define HS_REASON_STOP_LOSS      "STOP_LOSS"
#define HS_REASON_TAKE_PROFIT    "TAKE_PROFIT"
#define HS_REASON_TERMINAL_CLOSE "TERMINAL_CLOSE"   // by hand in the terminal, or another program
#define HS_REASON_UNKNOWN        "UNKNOWN"
#define HS_REASON_AGENT          "AGENT"            // journal only: closed by the agent's CLOSE

//--- What an order send came to (Trade.mqh of each platform) and what a look-up found (Lookup.mqh).
#define HS_SEND_DONE        0     // filled (maybe partly: the remainder is cancelled)
#define HS_SEND_REFUSED     1     // certainly nothing placed: fill.errorCode says why
#define HS_SEND_UNKNOWN     2     // timeout, lost connection: the order may exist; look it up
#define HS_SEND_PLACED      3     // accepted, not filled yet: followed until it fills
#define HS_FOUND_NONE       0
#define HS_FOUND_PENDING    1
#define HS_FOUND_FILLED     2
#define HS_FOLLOW_UNKNOWN_MS 10000   // how long an unknown outcome is looked for before TIMEOUT
#define HS_FOLLOW_PLACED_MS  60000   // how long a PLACED order may stay unfilled before it is cancelled

//--- HISTORY_RESULT states.
#define HS_STATE_OPEN    "OPEN"
#define HS_STATE_CLOSED  "CLOSED"
#define HS_STATE_UNKNOWN "UNKNOWN"

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
   string            symbols[];         // SUBSCRIBE
   string            positionIds[];     // HISTORY
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

bool HsReadStringList(CHsJsonNode *msg, const string name, string &out[], string &error)
  {
   CHsJsonNode *list = msg.Get(name);
   if(list == NULL || list.type != HS_JSON_ARRAY)
     {
      error = "field " + name + " must be a list of strings";
      return false;
     }
   ArrayResize(out, list.Count());
   for(int i = 0; i < list.Count(); i++)
     {
      CHsJsonNode *s = list.At(i);
      if(s.type != HS_JSON_STRING || s.text == "")
        {
         error = "field " + name + " must be a list of non-empty strings";
         return false;
        }
      out[i] = s.text;
     }
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
      return HsReadStringList(msg, "symbols", cmd.symbols, error);
   if(t != "OPEN" && t != "CLOSE" && t != "SYNC" && t != "HISTORY")
     {
      error = "unknown type " + t;
      return false;
     }
   if(!HsReadString(msg, "commandId", cmd.commandId, error))
      return false;
   if(t == "SYNC")
      return true;
   if(t == "HISTORY")
      return HsReadStringList(msg, "positionIds", cmd.positionIds, error);
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
   ArrayResize(cmd.positionIds, 0);
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

#endif
