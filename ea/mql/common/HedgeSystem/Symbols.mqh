//+------------------------------------------------------------------+
//| Symbols.mqh - canonical symbol (USDJPY) <-> broker symbol        |
//| (USDJPY.m), price text with the symbol's digits, and the volume  |
//| checks done before an order is sent.                             |
//| Shared verbatim by MQL5 and MQL4 (the drift test checks that).   |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_SYMBOLS_MQH
#define HEDGE_SYSTEM_SYMBOLS_MQH

class CHsSymbolMap
  {
private:
   string            m_prefix;
   string            m_suffix;
   string            m_canonical[];
   string            m_broker[];

   void              Remember(const string canonical, const string broker)
     {
      int n = ArraySize(m_canonical);
      ArrayResize(m_canonical, n + 1, 16);
      ArrayResize(m_broker, n + 1, 16);
      m_canonical[n] = canonical;
      m_broker[n] = broker;
     }
   //--- The 3-argument SymbolInfoInteger fails for a name the server does not list (works on
   //--- both platforms, unlike SymbolExist which MQL4 lacks).
   static bool       Exists(const string name)
     {
      long digits = 0;
      return name != "" && SymbolInfoInteger(name, SYMBOL_DIGITS, digits);
     }

public:
   void              Init(const string prefix, const string suffix)
     {
      m_prefix = prefix;
      m_suffix = suffix;
      ArrayResize(m_canonical, 0);
      ArrayResize(m_broker, 0);
     }
   //--- The broker's name for `canonical`, or "" when the terminal has no such symbol.
   //--- Order: cache, prefix+name+suffix, the name itself, then the shortest terminal symbol
   //--- that contains the name (USDJPY -> USDJPY.m, USDJPYmicro).
   string            Broker(const string canonical)
     {
      for(int i = 0; i < ArraySize(m_canonical); i++)
         if(m_canonical[i] == canonical)
            return m_broker[i];
      string found = "";
      string decorated = m_prefix + canonical + m_suffix;
      if(Exists(decorated))
         found = decorated;
      else if(Exists(canonical))
         found = canonical;
      else
        {
         int total = SymbolsTotal(false);
         for(int i = 0; i < total; i++)
           {
            string name = SymbolName(i, false);
            if(StringFind(name, canonical) >= 0 && (found == "" || StringLen(name) < StringLen(found)))
               found = name;
           }
        }
      if(found != "")
         Remember(canonical, found);
      return found;
     }
   //--- The canonical name of a broker symbol: the mapping learned above, else the name with
   //--- the configured prefix/suffix removed.
   string            Canonical(const string broker)
     {
      for(int i = 0; i < ArraySize(m_broker); i++)
         if(m_broker[i] == broker)
            return m_canonical[i];
      string name = broker;
      if(m_prefix != "" && StringFind(name, m_prefix) == 0)
         name = StringSubstr(name, StringLen(m_prefix));
      int cut = StringLen(name) - StringLen(m_suffix);
      if(m_suffix != "" && cut > 0 && StringSubstr(name, cut) == m_suffix)
         name = StringSubstr(name, 0, cut);
      return name;
     }
  };

int HsDigits(const string brokerSymbol)
  {
   return (int)SymbolInfoInteger(brokerSymbol, SYMBOL_DIGITS);
  }

string HsPriceText(const string brokerSymbol, const double price)
  {
   return DoubleToString(price, HsDigits(brokerSymbol));
  }

//--- Decimal places of the volume step (0.01 -> 2), so volumes print without float noise.
int HsVolumeDigits(const string brokerSymbol)
  {
   double step = SymbolInfoDouble(brokerSymbol, SYMBOL_VOLUME_STEP);
   int digits = 0;
   while(digits < 8 && MathAbs(step * MathPow(10, digits) - MathRound(step * MathPow(10, digits))) > 1e-7)
      digits++;
   return digits;
  }

string HsVolumeText(const string brokerSymbol, const double volume)
  {
   return DoubleToString(volume, HsVolumeDigits(brokerSymbol));
  }

//--- "" when `volume` can be sent for the symbol, else why not (answered as INVALID_VOLUME).
string HsVolumeProblem(const string brokerSymbol, const double volume)
  {
   double vmin = SymbolInfoDouble(brokerSymbol, SYMBOL_VOLUME_MIN);
   double vmax = SymbolInfoDouble(brokerSymbol, SYMBOL_VOLUME_MAX);
   double step = SymbolInfoDouble(brokerSymbol, SYMBOL_VOLUME_STEP);
   if(volume < vmin - 1e-9)
      return "volume must be >= " + DoubleToString(vmin, 8) + ", was " + DoubleToString(volume, 8);
   if(vmax > 0 && volume > vmax + 1e-9)
      return "volume must be <= " + DoubleToString(vmax, 8) + ", was " + DoubleToString(volume, 8);
   if(step > 0)
     {
      double steps = volume / step;
      if(MathAbs(steps - MathRound(steps)) > 1e-6)
         return "volume must be a multiple of " + DoubleToString(step, 8) + ", was "
                + DoubleToString(volume, 8);
     }
   return "";
  }

#endif
