package psrp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrCLIXML reports CLIXML that cannot be decoded.
var ErrCLIXML = errors.New("psrp: malformed CLIXML")

// Value is one CLIXML element ([MS-PSRP] 2.2.5): a primitive such as <S> or
// <I32>, <Nil>, a <Ref> back to an earlier object, or a complex <Obj>.
type Value struct {
	// Kind is the element name: "S", "I32", "B", "Nil", "Obj", "Ref", "SS", …
	Kind string
	// Name is the N attribute, set when the value is a property or member.
	Name string
	// Text is the content of a primitive, with _xHHHH_ escapes decoded.
	Text string
	// Obj is the object of an "Obj" value, or the object a "Ref" points to
	// (nil when the reference is unknown).
	Obj *Object
	// RefID is the RefId of a "Ref" as read; the encoder renumbers.
	RefID int
}

// Object is the content of <Obj>: type names, ToString, an optional wrapped
// primitive (enums), a collection, adapted properties and extended members.
type Object struct {
	TypeNames []string // <TN>/<T>, most derived first
	ToString  *string  // <ToString>, nil when absent
	Primitive *Value   // the value of an enum or wrapped primitive, e.g. <I32>2</I32>
	ListKind  string   // "LST", "IE", "STK" or "QUE" when List is set
	List      []Value  // collection items
	Dict      []DictEntry
	IsDict    bool    // <DCT> present (possibly empty)
	Props     []Value // <Props>: adapted properties
	Members   []Value // <MS>: extended members
}

// DictEntry is one <En> of a <DCT>.
type DictEntry struct{ Key, Value Value }

// String returns a <S> value.
func String(s string) Value { return Value{Kind: "S", Text: s} }

// Int32 returns an <I32> value.
func Int32(n int32) Value { return Value{Kind: "I32", Text: strconv.FormatInt(int64(n), 10)} }

// Int64 returns an <I64> value.
func Int64(n int64) Value { return Value{Kind: "I64", Text: strconv.FormatInt(n, 10)} }

// Bool returns a <B> value.
func Bool(b bool) Value { return Value{Kind: "B", Text: strconv.FormatBool(b)} }

// Nil returns a <Nil> value.
func Nil() Value { return Value{Kind: "Nil"} }

// ObjValue returns an <Obj> value holding o.
func ObjValue(o *Object) Value { return Value{Kind: "Obj", Obj: o} }

// Named returns v with its N attribute set to name.
func Named(name string, v Value) Value { v.Name = name; return v }

// Enum returns an <Obj> for a .NET enum value: its type names, ToString and
// the underlying <I32>.
func Enum(typeName string, toString string, n int32) Value {
	ts := toString
	return ObjValue(&Object{
		TypeNames: []string{typeName, "System.Enum", "System.ValueType", "System.Object"},
		ToString:  &ts,
		Primitive: ptr(Int32(n)),
	})
}

func ptr[T any](v T) *T { return &v }

// IsNil reports whether v is <Nil> or empty.
func (v Value) IsNil() bool { return v.Kind == "" || v.Kind == "Nil" }

// target returns the object of an Obj or a resolved Ref.
func (v Value) target() *Object {
	if v.Kind == "Obj" || v.Kind == "Ref" {
		return v.Obj
	}
	return nil
}

// Member returns the member or property named name of an object value,
// searching <MS> before <Props>.
func (v Value) Member(name string) (Value, bool) {
	o := v.target()
	if o == nil {
		return Value{}, false
	}
	for _, m := range o.Members {
		if m.Name == name {
			return m, true
		}
	}
	for _, m := range o.Props {
		if m.Name == name {
			return m, true
		}
	}
	// A PSObject may wrap its base object as an inner <Obj> (seen for
	// Get-Item output); look inside it too.
	if o.Primitive != nil && o.Primitive.Kind == "Obj" && o.Primitive.Obj != o {
		if m, ok := o.Primitive.Member(name); ok {
			return m, true
		}
	}
	// PowerShell property names are case-insensitive (CloudID, CloudId).
	for _, group := range [][]Value{o.Members, o.Props} {
		for _, m := range group {
			if strings.EqualFold(m.Name, name) {
				return m, true
			}
		}
	}
	return Value{}, false
}

// Str returns the text of a primitive, the ToString of an object, or the
// primitive wrapped in an object; "" for Nil.
func (v Value) Str() string {
	if o := v.target(); o != nil {
		switch {
		case o.ToString != nil:
			return *o.ToString
		case o.Primitive != nil:
			return o.Primitive.Text
		}
		return ""
	}
	return v.Text
}

// Int returns v as an integer: a numeric primitive or the value of an enum
// object.
func (v Value) Int() (int64, error) {
	if o := v.target(); o != nil && o.Primitive != nil {
		return o.Primitive.Int()
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v.Text), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s %q is not an integer", ErrCLIXML, v.Kind, v.Text)
	}
	return n, nil
}

// MemberStr returns the string form of the named member, or "".
func (v Value) MemberStr(name string) string {
	m, _ := v.Member(name)
	return m.Str()
}

// MarshalCLIXML returns the compact CLIXML encoding of v as pypsrp and
// PowerShell write it: no whitespace, RefIds numbered in document order,
// repeated type-name lists written as <TNRef>.
func (v Value) MarshalCLIXML() []byte {
	e := encoder{objIDs: map[*Object]int{}, tnIDs: map[string]int{}}
	e.value(v)
	return e.buf.Bytes()
}

type encoder struct {
	buf    bytes.Buffer
	objIDs map[*Object]int
	tnIDs  map[string]int
}

func (e *encoder) open(tag, name string, attrs ...string) {
	e.buf.WriteByte('<')
	e.buf.WriteString(tag)
	if name != "" {
		e.attr("N", EscapeString(name))
	}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.attr(attrs[i], attrs[i+1])
	}
}

func (e *encoder) attr(k, v string) {
	e.buf.WriteByte(' ')
	e.buf.WriteString(k)
	e.buf.WriteString(`="`)
	xmlEscape(&e.buf, v, true)
	e.buf.WriteByte('"')
}

func (e *encoder) element(tag, name, text string) {
	e.open(tag, name)
	if text == "" {
		e.buf.WriteString(" />")
		return
	}
	e.buf.WriteByte('>')
	xmlEscape(&e.buf, text, false)
	e.buf.WriteString("</" + tag + ">")
}

func (e *encoder) value(v Value) {
	switch v.Kind {
	case "", "Nil":
		e.open("Nil", v.Name)
		e.buf.WriteString(" />")
	case "Obj":
		e.object(v.Name, v.Obj)
	case "Ref":
		id, ok := e.objIDs[v.Obj]
		if !ok {
			id = v.RefID
		}
		e.open("Ref", v.Name, "RefId", strconv.Itoa(id))
		e.buf.WriteString(" />")
	case "S", "C", "URI", "XD", "SBK":
		e.element(v.Kind, v.Name, EscapeString(v.Text))
	default:
		e.element(v.Kind, v.Name, v.Text)
	}
}

func (e *encoder) object(name string, o *Object) {
	if o == nil {
		o = &Object{}
	}
	id := len(e.objIDs)
	e.objIDs[o] = id
	e.open("Obj", name, "RefId", strconv.Itoa(id))
	e.buf.WriteByte('>')
	if len(o.TypeNames) > 0 {
		key := strings.Join(o.TypeNames, "\x00")
		if tn, ok := e.tnIDs[key]; ok {
			e.buf.WriteString(`<TNRef RefId="` + strconv.Itoa(tn) + `" />`)
		} else {
			tn = len(e.tnIDs)
			e.tnIDs[key] = tn
			e.buf.WriteString(`<TN RefId="` + strconv.Itoa(tn) + `">`)
			for _, t := range o.TypeNames {
				e.element("T", "", EscapeString(t))
			}
			e.buf.WriteString("</TN>")
		}
	}
	if o.ToString != nil {
		e.element("ToString", "", EscapeString(*o.ToString))
	}
	if o.Primitive != nil {
		p := *o.Primitive
		p.Name = ""
		e.value(p)
	}
	if o.ListKind != "" || o.List != nil {
		kind := o.ListKind
		if kind == "" {
			kind = "LST"
		}
		e.group(kind, o.List)
	}
	if o.IsDict || o.Dict != nil {
		if len(o.Dict) == 0 {
			e.buf.WriteString("<DCT />")
		} else {
			e.buf.WriteString("<DCT>")
			for _, en := range o.Dict {
				e.buf.WriteString("<En>")
				e.value(Named("Key", en.Key))
				e.value(Named("Value", en.Value))
				e.buf.WriteString("</En>")
			}
			e.buf.WriteString("</DCT>")
		}
	}
	if o.Props != nil {
		e.group("Props", o.Props)
	}
	if o.Members != nil {
		e.group("MS", o.Members)
	}
	e.buf.WriteString("</Obj>")
}

func (e *encoder) group(tag string, vs []Value) {
	if len(vs) == 0 {
		e.buf.WriteString("<" + tag + " />")
		return
	}
	e.buf.WriteString("<" + tag + ">")
	for _, v := range vs {
		e.value(v)
	}
	e.buf.WriteString("</" + tag + ">")
}

// xmlEscape writes s with the characters XML requires escaped. Attribute
// values also escape quotes.
func xmlEscape(b *bytes.Buffer, s string, attr bool) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
}

// EscapeString applies the CLIXML string encoding of [MS-PSRP] 2.2.5.3.2:
// "_x" becomes "_x005F_x", and control characters, C1 characters and
// characters outside the Basic Multilingual Plane become _xHHHH_ escapes of
// their UTF-16 code units. XML escaping is separate.
func EscapeString(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '_' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
			b.WriteString("_x005F_")
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, "_x%04X_", s[i])
		case r < 0x20 || (r >= 0x7F && r <= 0x9F) || r == 0xFFFE || r == 0xFFFF:
			fmt.Fprintf(&b, "_x%04X_", r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "_x%04X__x%04X_", hi, lo)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// UnescapeString reverses [EscapeString]: every _xHHHH_ becomes its UTF-16
// code unit, and surrogate pairs are joined. An unpaired surrogate becomes
// U+FFFD.
func UnescapeString(s string) string {
	if !strings.Contains(s, "_x") && !strings.Contains(s, "_X") {
		return s
	}
	var units []uint16
	var b strings.Builder
	flush := func() {
		if len(units) > 0 {
			b.WriteString(string(utf16.Decode(units)))
			units = units[:0]
		}
	}
	for i := 0; i < len(s); {
		if u, ok := escapeAt(s, i); ok {
			units = append(units, u)
			i += 7
			continue
		}
		flush()
		b.WriteByte(s[i])
		i++
	}
	flush()
	return b.String()
}

func escapeAt(s string, i int) (uint16, bool) {
	if i+7 > len(s) || s[i] != '_' || (s[i+1] != 'x' && s[i+1] != 'X') || s[i+6] != '_' {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
	if err != nil {
		return 0, false
	}
	return uint16(n), true
}

// maxDepth bounds nesting when decoding hostile input.
const maxDepth = 200

// UnmarshalCLIXML decodes one CLIXML value from data (a leading byte order
// mark is skipped). References are resolved against objects decoded earlier
// in the same data. It never panics on hostile input and bounds nesting.
func UnmarshalCLIXML(data []byte) (Value, error) {
	data = bytes.TrimPrefix(data, bom)
	d := decoder{x: xml.NewDecoder(bytes.NewReader(data)), refs: map[int]*Object{}}
	d.x.Strict = true
	for {
		tok, err := d.x.Token()
		if err != nil {
			if err == io.EOF {
				return Value{}, fmt.Errorf("%w: no element", ErrCLIXML)
			}
			return Value{}, fmt.Errorf("%w: %v", ErrCLIXML, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			v, err := d.value(t, 0)
			if err != nil {
				return Value{}, err
			}
			// Anything after the root except whitespace is an error.
			for {
				tok, err := d.x.Token()
				if err == io.EOF {
					return v, nil
				}
				if err != nil {
					return Value{}, fmt.Errorf("%w: %v", ErrCLIXML, err)
				}
				if c, ok := tok.(xml.CharData); !ok || len(bytes.TrimSpace(c)) > 0 {
					if _, ok := tok.(xml.Comment); ok {
						continue
					}
					return Value{}, fmt.Errorf("%w: content after the root element", ErrCLIXML)
				}
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return Value{}, fmt.Errorf("%w: text outside an element", ErrCLIXML)
			}
		}
	}
}

type decoder struct {
	x    *xml.Decoder
	refs map[int]*Object
	tns  map[int][]string
}

func attr(se xml.StartElement, name string) (string, bool) {
	for _, a := range se.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// text reads character data up to the end of the current element.
func (d *decoder) text() (string, error) {
	var b strings.Builder
	for {
		tok, err := d.x.Token()
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrCLIXML, err)
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.EndElement:
			return b.String(), nil
		case xml.StartElement:
			return "", fmt.Errorf("%w: element <%s> inside a primitive", ErrCLIXML, t.Name.Local)
		}
	}
}

func (d *decoder) value(se xml.StartElement, depth int) (Value, error) {
	if depth > maxDepth {
		return Value{}, fmt.Errorf("%w: nested deeper than %d", ErrCLIXML, maxDepth)
	}
	v := Value{Kind: se.Name.Local}
	if n, ok := attr(se, "N"); ok {
		v.Name = UnescapeString(n)
	}
	switch v.Kind {
	case "Obj":
		o, err := d.object(se, depth)
		if err != nil {
			return Value{}, err
		}
		v.Obj = o
		return v, nil
	case "Ref":
		id, _ := attr(se, "RefId")
		n, err := strconv.Atoi(id)
		if err != nil {
			return Value{}, fmt.Errorf("%w: Ref with RefId %q", ErrCLIXML, id)
		}
		v.RefID, v.Obj = n, d.refs[n]
		if err := d.x.Skip(); err != nil {
			return Value{}, fmt.Errorf("%w: %v", ErrCLIXML, err)
		}
		return v, nil
	}
	t, err := d.text()
	if err != nil {
		return Value{}, err
	}
	switch v.Kind {
	case "S", "C", "URI", "XD", "SBK":
		t = UnescapeString(t)
	default:
		// Other primitives are numbers, dates, base64 and the like; a
		// control character (possible only as a character reference) could
		// not be written back as XML.
		if i := strings.IndexFunc(t, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' }); i >= 0 {
			return Value{}, fmt.Errorf("%w: control character in <%s>", ErrCLIXML, v.Kind)
		}
	}
	v.Text = t
	return v, nil
}

func (d *decoder) object(se xml.StartElement, depth int) (*Object, error) {
	o := &Object{}
	if id, ok := attr(se, "RefId"); ok {
		if n, err := strconv.Atoi(id); err == nil {
			d.refs[n] = o
		}
	}
	if err := d.eachChild(func(c xml.StartElement) error { return d.objectPart(o, c, depth) }); err != nil {
		return nil, err
	}
	return o, nil
}

func (d *decoder) objectPart(o *Object, se xml.StartElement, depth int) error {
	switch se.Name.Local {
	case "TN":
		names, err := children(d, depth, func(c xml.StartElement) (string, error) {
			if c.Name.Local != "T" {
				return "", fmt.Errorf("%w: <%s> inside <TN>", ErrCLIXML, c.Name.Local)
			}
			s, err := d.text()
			return UnescapeString(s), err
		})
		if err != nil {
			return err
		}
		o.TypeNames = names
		if id, ok := attr(se, "RefId"); ok {
			if n, err := strconv.Atoi(id); err == nil {
				if d.tns == nil {
					d.tns = map[int][]string{}
				}
				d.tns[n] = names
			}
		}
	case "TNRef":
		id, _ := attr(se, "RefId")
		n, err := strconv.Atoi(id)
		if err != nil {
			return fmt.Errorf("%w: TNRef with RefId %q", ErrCLIXML, id)
		}
		o.TypeNames = d.tns[n]
		if err := d.x.Skip(); err != nil {
			return fmt.Errorf("%w: %v", ErrCLIXML, err)
		}
	case "ToString":
		s, err := d.text()
		if err != nil {
			return err
		}
		s = UnescapeString(s)
		o.ToString = &s
	case "LST", "IE", "STK", "QUE":
		items, err := d.values(depth)
		if err != nil {
			return err
		}
		o.ListKind, o.List = se.Name.Local, items
		if o.List == nil {
			o.List = []Value{}
		}
	case "DCT":
		o.IsDict = true
		entries, err := children(d, depth, func(c xml.StartElement) (DictEntry, error) {
			if c.Name.Local != "En" {
				return DictEntry{}, fmt.Errorf("%w: <%s> inside <DCT>", ErrCLIXML, c.Name.Local)
			}
			vs, err := d.values(depth + 1)
			if err != nil {
				return DictEntry{}, err
			}
			var en DictEntry
			for _, v := range vs {
				switch v.Name {
				case "Key":
					en.Key = v
				case "Value":
					en.Value = v
				}
			}
			en.Key.Name, en.Value.Name = "", ""
			return en, nil
		})
		if err != nil {
			return err
		}
		o.Dict = entries
	case "Props":
		vs, err := d.values(depth)
		if err != nil {
			return err
		}
		o.Props = append(o.Props, vs...)
		if o.Props == nil {
			o.Props = []Value{}
		}
	case "MS":
		vs, err := d.values(depth)
		if err != nil {
			return err
		}
		o.Members = append(o.Members, vs...)
		if o.Members == nil {
			o.Members = []Value{}
		}
	default:
		v, err := d.value(se, depth+1)
		if err != nil {
			return err
		}
		o.Primitive = &v
	}
	return nil
}

// values reads child values up to the end of the current element.
func (d *decoder) values(depth int) ([]Value, error) {
	return children(d, depth, func(c xml.StartElement) (Value, error) { return d.value(c, depth+1) })
}

func children[T any](d *decoder, depth int, f func(xml.StartElement) (T, error)) ([]T, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", ErrCLIXML, maxDepth)
	}
	var out []T
	err := d.eachChild(func(c xml.StartElement) error {
		v, err := f(c)
		if err == nil {
			out = append(out, v)
		}
		return err
	})
	return out, err
}

// eachChild calls f for each child element up to the end of the current
// element; text between children other than white space is an error.
func (d *decoder) eachChild(f func(xml.StartElement) error) error {
	for {
		tok, err := d.x.Token()
		if err != nil {
			return fmt.Errorf("%w: %v", ErrCLIXML, err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return fmt.Errorf("%w: unexpected text %q", ErrCLIXML, truncate(string(t), 20))
			}
		case xml.StartElement:
			if err := f(t); err != nil {
				return err
			}
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
