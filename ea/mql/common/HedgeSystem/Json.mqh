//+------------------------------------------------------------------+
//| Json.mqh - a small JSON reader and writer for the EA protocol.   |
//| Shared verbatim by MQL5 and MQL4 (the drift test checks that).   |
//| Reads objects, arrays, strings with escapes, numbers, true,      |
//| false and null; rejects anything else. Nesting is capped so a    |
//| hostile frame cannot exhaust the stack.                          |
//+------------------------------------------------------------------+
#ifndef HEDGE_SYSTEM_JSON_MQH
#define HEDGE_SYSTEM_JSON_MQH

#define HS_JSON_MAX_DEPTH 32

enum ENUM_HS_JSON_TYPE
  {
   HS_JSON_NULL,
   HS_JSON_BOOL,
   HS_JSON_NUMBER,
   HS_JSON_STRING,
   HS_JSON_ARRAY,
   HS_JSON_OBJECT
  };

//--- One parsed value. Objects keep their members in `items` with `key` set.
class CHsJsonNode
  {
public:
   ENUM_HS_JSON_TYPE type;
   string            key;
   string            text;     // string value, or the number exactly as written
   double            number;
   bool              flag;
   CHsJsonNode      *items[];

                     CHsJsonNode(void) : type(HS_JSON_NULL), number(0.0), flag(false) {}
                    ~CHsJsonNode(void)
     {
      for(int i = 0; i < ArraySize(items); i++)
         if(CheckPointer(items[i]) == POINTER_DYNAMIC)
            delete items[i];
     }
   int               Count(void) { return ArraySize(items); }
   CHsJsonNode      *At(const int index)
     {
      if(index < 0 || index >= ArraySize(items))
         return NULL;
      return items[index];
     }
   //--- The member called `name`, or NULL (also NULL when this is not an object).
   CHsJsonNode      *Get(const string name)
     {
      if(type != HS_JSON_OBJECT)
         return NULL;
      for(int i = 0; i < ArraySize(items); i++)
         if(items[i].key == name)
            return items[i];
      return NULL;
     }
   void              Add(CHsJsonNode *child)
     {
      int n = ArraySize(items);
      ArrayResize(items, n + 1, 8);
      items[n] = child;
     }
  };

//--- Recursive-descent parser over the UTF-16 string MQL gives us.
class CHsJsonParser
  {
private:
   string            m_src;
   int               m_pos;
   int               m_len;
   string            m_error;

   ushort            Peek(void) { return m_pos < m_len ? StringGetCharacter(m_src, m_pos) : 0; }
   void              SkipSpace(void)
     {
      while(m_pos < m_len)
        {
         ushort c = StringGetCharacter(m_src, m_pos);
         if(c != ' ' && c != '\t' && c != '\r' && c != '\n')
            break;
         m_pos++;
        }
     }
   bool              Fail(const string why)
     {
      if(m_error == "")
         m_error = why + " at offset " + IntegerToString(m_pos);
      return false;
     }
   bool              Literal(const string word)
     {
      int n = StringLen(word);
      if(m_pos + n > m_len || StringSubstr(m_src, m_pos, n) != word)
         return Fail("invalid literal");
      m_pos += n;
      return true;
     }
   static int        HexValue(const ushort c)
     {
      if(c >= '0' && c <= '9') return c - '0';
      if(c >= 'a' && c <= 'f') return c - 'a' + 10;
      if(c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
     }
   bool              ParseString(string &out)
     {
      out = "";
      m_pos++;                               // opening quote
      int start = m_pos;                     // copy plain runs in one piece
      while(m_pos < m_len)
        {
         ushort c = StringGetCharacter(m_src, m_pos);
         if(c == '"')
           {
            out += StringSubstr(m_src, start, m_pos - start);
            m_pos++;
            return true;
           }
         if(c < 0x20)
            return Fail("control character in string");
         if(c != '\\')
           {
            m_pos++;
            continue;
           }
         out += StringSubstr(m_src, start, m_pos - start);
         if(m_pos + 1 >= m_len)
            return Fail("unterminated escape");
         ushort e = StringGetCharacter(m_src, m_pos + 1);
         m_pos += 2;
         switch(e)
           {
            case '"':  out += "\""; break;
            case '\\': out += "\\"; break;
            case '/':  out += "/";  break;
            case 'b':  out += ShortToString(0x08); break;
            case 'f':  out += ShortToString(0x0C); break;
            case 'n':  out += "\n"; break;
            case 'r':  out += "\r"; break;
            case 't':  out += "\t"; break;
            case 'u':
              {
               if(m_pos + 4 > m_len)
                  return Fail("short \\u escape");
               int code = 0;
               for(int k = 0; k < 4; k++)
                 {
                  int h = HexValue(StringGetCharacter(m_src, m_pos + k));
                  if(h < 0)
                     return Fail("bad \\u escape");
                  code = code * 16 + h;
                 }
               m_pos += 4;
               out += ShortToString((ushort)code);   // surrogate pairs pass through as two units
               break;
              }
            default:
               return Fail("unknown escape");
           }
         start = m_pos;
        }
      return Fail("unterminated string");
     }
   bool              ParseNumber(CHsJsonNode *node)
     {
      int start = m_pos;
      if(Peek() == '-')
         m_pos++;
      if(Peek() == '0')
         m_pos++;
      else
        {
         if(Peek() < '1' || Peek() > '9')
            return Fail("invalid number");
         while(Peek() >= '0' && Peek() <= '9') m_pos++;
        }
      if(Peek() == '.')
        {
         m_pos++;
         if(Peek() < '0' || Peek() > '9')
            return Fail("invalid fraction");
         while(Peek() >= '0' && Peek() <= '9') m_pos++;
        }
      if(Peek() == 'e' || Peek() == 'E')
        {
         m_pos++;
         if(Peek() == '+' || Peek() == '-') m_pos++;
         if(Peek() < '0' || Peek() > '9')
            return Fail("invalid exponent");
         while(Peek() >= '0' && Peek() <= '9') m_pos++;
        }
      node.type = HS_JSON_NUMBER;
      node.text = StringSubstr(m_src, start, m_pos - start);
      node.number = StringToDouble(node.text);
      if(!MathIsValidNumber(node.number))
         return Fail("number out of range");
      return true;
     }
   bool              ParseValue(CHsJsonNode *node, const int depth)
     {
      if(depth > HS_JSON_MAX_DEPTH)
         return Fail("nesting too deep");
      SkipSpace();
      ushort c = Peek();
      if(c == '{')
         return ParseObject(node, depth);
      if(c == '[')
         return ParseArray(node, depth);
      if(c == '"')
        {
         node.type = HS_JSON_STRING;
         return ParseString(node.text);
        }
      if(c == 't')
        {
         node.type = HS_JSON_BOOL;
         node.flag = true;
         return Literal("true");
        }
      if(c == 'f')
        {
         node.type = HS_JSON_BOOL;
         return Literal("false");
        }
      if(c == 'n')
        {
         node.type = HS_JSON_NULL;
         return Literal("null");
        }
      if(c == '-' || (c >= '0' && c <= '9'))
         return ParseNumber(node);
      return Fail("unexpected character");
     }
   bool              ParseArray(CHsJsonNode *node, const int depth)
     {
      node.type = HS_JSON_ARRAY;
      m_pos++;
      SkipSpace();
      if(Peek() == ']')
        {
         m_pos++;
         return true;
        }
      while(true)
        {
         CHsJsonNode *child = new CHsJsonNode();
         node.Add(child);                     // owned by node even when parsing fails
         if(!ParseValue(child, depth + 1))
            return false;
         SkipSpace();
         if(Peek() == ',')
           {
            m_pos++;
            continue;
           }
         if(Peek() == ']')
           {
            m_pos++;
            return true;
           }
         return Fail("expected , or ]");
        }
      return false;
     }
   bool              ParseObject(CHsJsonNode *node, const int depth)
     {
      node.type = HS_JSON_OBJECT;
      m_pos++;
      SkipSpace();
      if(Peek() == '}')
        {
         m_pos++;
         return true;
        }
      while(true)
        {
         SkipSpace();
         if(Peek() != '"')
            return Fail("expected member name");
         string name;
         if(!ParseString(name))
            return false;
         SkipSpace();
         if(Peek() != ':')
            return Fail("expected :");
         m_pos++;
         CHsJsonNode *child = new CHsJsonNode();
         child.key = name;
         node.Add(child);
         if(!ParseValue(child, depth + 1))
            return false;
         SkipSpace();
         if(Peek() == ',')
           {
            m_pos++;
            continue;
           }
         if(Peek() == '}')
           {
            m_pos++;
            return true;
           }
         return Fail("expected , or }");
        }
      return false;
     }

public:
   //--- The parsed tree (caller deletes it), or NULL with Error() set.
   CHsJsonNode      *Parse(const string src)
     {
      m_src = src;
      m_pos = 0;
      m_len = StringLen(src);
      m_error = "";
      CHsJsonNode *root = new CHsJsonNode();
      bool ok = ParseValue(root, 0);
      if(ok)
        {
         SkipSpace();
         if(m_pos != m_len)
            ok = Fail("trailing characters");
        }
      if(!ok)
        {
         delete root;
         return NULL;
        }
      return root;
     }
   string            Error(void) { return m_error; }
  };

//--- A JSON string literal for `value`, quotes included.
string HsJsonQuote(const string value)
  {
   string out = "\"";
   int n = StringLen(value);
   for(int i = 0; i < n; i++)
     {
      ushort c = StringGetCharacter(value, i);
      if(c == '"')       out += "\\\"";
      else if(c == '\\') out += "\\\\";
      else if(c == '\n') out += "\\n";
      else if(c == '\r') out += "\\r";
      else if(c == '\t') out += "\\t";
      else if(c < 0x20)  out += StringFormat("\\u%04X", c);
      else               out += ShortToString(c);
     }
   return out + "\"";
  }

//--- Builds one JSON object member by member: w.Str("type", "PONG"); w.Long("id", 7); w.Text()
class CHsJsonWriter
  {
private:
   string            m_body;
   void              Member(const string key, const string json)
     {
      if(m_body != "")
         m_body += ",";
      m_body += HsJsonQuote(key) + ":" + json;
     }
public:
   void              Str(const string key, const string value) { Member(key, HsJsonQuote(value)); }
   //--- `number` must already be JSON number text (DoubleToString output is).
   void              Num(const string key, const string number) { Member(key, number); }
   void              Long(const string key, const long value) { Member(key, IntegerToString(value)); }
   void              Raw(const string key, const string json) { Member(key, json); }
   string            Text(void) { return "{" + m_body + "}"; }
  };

#endif
