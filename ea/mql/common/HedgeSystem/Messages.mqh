//+------------------------------------------------------------------+
//| Messages.mqh - builders of the EA's frames: AUTH, PING/PONG,     |
//| ERROR, OPENED, CLOSED, STOPPED, PRICE, ACCOUNT, POSITIONS,       |
//| HISTORY_RESULT and SYMBOLS (docs/ea-protocol.md).                |
//| One source for MQL5 and MQL4 (ea/mql/common; hedge ea-install).  |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_MESSAGES_MQH
#define HEDGE_SYSTEM_MESSAGES_MQH

#include "Protocol.mqh"
#include "Symbols.mqh"


string HsAuthMessage(const string token, const string platform, const string marginMode)
  {
   CHsJsonWriter w;
   w.Str("type", "AUTH");
   w.Str("token", token);
   w.Str("accountNumber", IntegerToString(AccountInfoInteger(ACCOUNT_LOGIN)));
   w.Str("serverName", AccountInfoString(ACCOUNT_SERVER));
   w.Str("platform", platform);
   w.Str("eaVersion", HS_EA_VERSION);
   w.Str("marginMode", marginMode);          // "HEDGING", "NETTING" or "EXCHANGE"
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

//--- `volume` is what filled (a partial fill's remainder is cancelled), "" when not known.
string HsOpenedSuccess(const string commandId, const string positionId, const string ticket,
                       const string price, const long timeMs, const string volume)
  {
   CHsJsonWriter w;
   w.Str("type", "OPENED");
   w.Str("commandId", commandId);
   w.Str("positionId", positionId);
   w.Str("status", "SUCCESS");
   w.Str("mtTicket", ticket);
   w.Num("price", price);
   w.Long("timeMs", timeMs);
   if(volume != "")
      w.Num("volume", volume);
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


//--- One element of HISTORY_RESULT.results. OPEN: ticket; CLOSED: ticket, price, time, net profit
//--- and the reason ("" when the agent's own CLOSE closed it); UNKNOWN: nothing found.
string HsHistoryEntry(const string positionId, const string ticket, const string state,
                      const string price, const long timeMs, const string profit, const string reason)
  {
   CHsJsonWriter w;
   w.Str("positionId", positionId);
   if(ticket != "")
      w.Str("mtTicket", ticket);
   w.Str("state", state);
   if(state == HS_STATE_CLOSED)
     {
      w.Num("price", price);
      w.Long("timeMs", timeMs);
      w.Num("profit", profit);
      if(reason != "" && reason != HS_REASON_AGENT)
         w.Str("reason", reason);
     }
   return w.Text();
  }

string HsHistoryResultMessage(const string commandId, const string &items[], const int count)
  {
   string list = "";
   for(int i = 0; i < count; i++)
      list += (i > 0 ? "," : "") + items[i];
   CHsJsonWriter w;
   w.Str("type", "HISTORY_RESULT");
   w.Str("commandId", commandId);
   w.Raw("results", "[" + list + "]");
   return w.Text();
  }

//--- One element of SYMBOLS.symbols (broker symbol name). marginPerLot / tickValue: "" = unknown.
string HsSymbolItem(const string brokerSymbol, const string marginPerLot, const string tickValue)
  {
   int digits = HsDigits(brokerSymbol);
   CHsJsonWriter w;
   w.Str("symbol", brokerSymbol);
   w.Long("digits", digits);
   w.Num("point", DoubleToString(SymbolInfoDouble(brokerSymbol, SYMBOL_POINT), digits));
   w.Num("contractSize", DoubleToString(SymbolInfoDouble(brokerSymbol, SYMBOL_TRADE_CONTRACT_SIZE), 2));
   w.Num("volumeMin", HsVolumeText(brokerSymbol, SymbolInfoDouble(brokerSymbol, SYMBOL_VOLUME_MIN)));
   w.Num("volumeStep", HsVolumeText(brokerSymbol, SymbolInfoDouble(brokerSymbol, SYMBOL_VOLUME_STEP)));
   w.Num("volumeMax", HsVolumeText(brokerSymbol, SymbolInfoDouble(brokerSymbol, SYMBOL_VOLUME_MAX)));
   if(marginPerLot != "")
      w.Num("marginPerLot", marginPerLot);
   if(tickValue != "")
      w.Num("tickValue", tickValue);
   return w.Text();
  }

string HsSymbolsMessage(const string &items[], const int count)
  {
   string list = "";
   for(int i = 0; i < count; i++)
      list += (i > 0 ? "," : "") + items[i];
   CHsJsonWriter w;
   w.Str("type", "SYMBOLS");
   w.Raw("symbols", "[" + list + "]");
   return w.Text();
  }

#endif
