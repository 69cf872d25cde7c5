package avrodec

import (
	"fmt"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

// pcode is one operation of a decoding program: read a value of the
// writer's type from the datum, check it, convert it to the reader's type
// and push its tape slots; or skip a writer-only value.
type pcode uint8

const (
	pNull            pcode = iota // reads nothing
	pBool                         // 1 byte, 0 or 1
	pInt                          // int varint, pushed as int64
	pLong                         // long varint
	pIntFloat                     // int -> float
	pIntDouble                    // int -> double
	pLongFloat                    // long -> float
	pLongDouble                   // long -> double
	pFloat                        // 4 bytes
	pFloatDouble                  // float -> double
	pDouble                       // 8 bytes
	pScaled                       // int or long (wide) time value, converted to the reader's unit by mul or div
	pString                       // length-prefixed, UTF-8 checked, pushed as a span
	pBytes                        // length-prefixed, pushed as a span
	pFixed                        // n bytes, pushed as a span
	pDecBytes                     // length-prefixed two's complement, pushed as 2 or 4 words
	pDecFixed                     // n bytes two's complement, pushed as 2 or 4 words
	pEnum                         // int index, mapped to the reader's symbol index
	pConst                        // push def (a reader-only field's default)
	pRecord                       // seq in order (only when tagged: otherwise flattened into the parent)
	pRecordReordered              // writer fields skipped to find their spans, then read in reader order
	pArray                        // blocks of items
	pMap                          // blocks of (string key, value)
	pUnion                        // writer union: long index, then the branch's op
	pFail                         // a writer union branch the reader cannot take

	// Skipping writer-only values: structure is checked (lengths, counts,
	// union indexes), contents are not.
	sNothing
	sByte
	sVarint
	s4
	s8
	sBytes
	sFixed
	sRecord
	sArray
	sMap
	sUnion
)

// pop is one node of a compiled program (a tree that follows the writer
// schema, annotated with what the reader wants).
type pop struct {
	// Hot fields first: the record loop and the leaf ops touch only these.
	code pcode
	// tag >= 0: push this reader-union tag before the value (the reader
	// is a union, the writer is not, or a writer branch maps to a reader
	// branch).
	tag      int32
	n        int      // fixed size
	seq      []*pop   // pRecord, sRecord: the fields' ops, nested untagged records flattened in
	self     []*pop   // {this op}, to run it as a sequence
	def      []uint64 // pConst
	steps    []step   // pRecordReordered, in reader order
	enumMap  []int32  // writer symbol index -> reader symbol index, -1 unknown
	elem     *pop     // array item, map value
	minSize  int      // array, map: least bytes one item takes on the wire
	branch   []*pop   // pUnion, sUnion
	wfields  []*pop   // pRecordReordered: skip op of each writer field
	mul      int64    // pScaled
	div      int64    // pScaled
	wide     bool     // pScaled: the writer value is a long; decimal: 256 bits
	prec     int      // decimal precision
	path     string   // reader path, for errors
	msg      string   // pFail
	wsymbols []string // for errors

	bound128 decimal128.Num // decimal: 10^precision
	bound256 decimal256.Num
}

// step is one reader field of a reordered record.
type step struct {
	op  *pop     // nil: push def
	w   int      // index of the writer field
	def []uint64 // tape slots of the reader's default
}

// finish sets op.self: every op can run as a one-op sequence.
func finish(op *pop) *pop {
	op.self = []*pop{op}
	return op
}

// appendFlat appends op to seq, or its fields when op is an untagged
// in-order record: one loop then runs a whole record tree without a call
// per nested record.
func appendFlat(seq []*pop, op *pop) []*pop {
	if (op.code == pRecord || op.code == sRecord) && op.tag < 0 {
		return append(seq, op.seq...)
	}
	return append(seq, op)
}

// compile makes the program that reads values written with w into the
// reader node r, following Avro's schema resolution rules.
func (d *Decoder) compile(w *snode, r *rnode, path string) (*pop, error) {
	op, err := d.compileOp(w, r, path)
	if err != nil {
		return nil, err
	}
	return finish(op), nil
}

func (d *Decoder) compileOp(w *snode, r *rnode, path string) (*pop, error) {
	if w.kind == kUnion {
		op := &pop{code: pUnion, tag: -1, path: path}
		ok := 0
		var firstErr error
		for i, wb := range w.branches {
			b, err := d.compile(wb, r, path)
			if err != nil {
				firstErr = cmpErr(firstErr, err)
				b = finish(&pop{code: pFail, tag: -1, path: path, msg: fmt.Sprintf("writer union branch %d (%s): %v", i, wb.typeName(), err)})
			} else {
				ok++
			}
			op.branch = append(op.branch, b)
		}
		if ok == 0 {
			return nil, fmt.Errorf("no branch of the writer's union %s can be read as %s: %v", w.typeName(), r.s.typeName(), firstErr)
		}
		return op, nil
	}
	if r.kind == rOptional || r.kind == rUnion {
		if w.kind == kNull {
			if !r.nullable {
				return nil, fmt.Errorf("%s: writer null, reader union %s has no null branch", orTop(path), r.s.typeName())
			}
			return &pop{code: pNull, tag: 0, path: path}, nil
		}
		j := pickBranch(w, r.altS)
		if j < 0 {
			return nil, fmt.Errorf("%s: writer %s matches no branch of the reader's union %s", orTop(path), w.typeName(), r.s.typeName())
		}
		op, err := d.compile(w, r.alts[j], path)
		if err != nil {
			return nil, err
		}
		op.tag = int32(j + 1)
		return op, nil
	}
	return d.compileValue(w, r, path)
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// pickBranch returns the reader union branch that takes writer type w:
// the first of the same type (for named types: the same full name, else
// the same unqualified name or an alias), else the first w can be
// promoted to. -1: none.
func pickBranch(w *snode, alts []*snode) int {
	for j, a := range alts {
		if a.kind == w.kind && (!isNamed(w.kind) || a.name == w.name) {
			return j
		}
	}
	for j, a := range alts {
		if a.kind == w.kind && isNamed(w.kind) && namesMatch(w, a) {
			return j
		}
	}
	for j, a := range alts {
		if promotable(w.kind, a.kind) {
			return j
		}
	}
	return -1
}

func isNamed(k kind) bool { return k == kRecord || k == kEnum || k == kFixed }

// namesMatch: Avro resolution matches named types by unqualified name; a
// reader alias also matches the writer's name.
func namesMatch(w, r *snode) bool {
	if w.name == r.name || shortName(w.name) == shortName(r.name) {
		return true
	}
	for _, a := range r.aliases {
		if a == w.name || shortName(a) == shortName(w.name) {
			return true
		}
	}
	return false
}

// promotable reports Avro's promotions (not identity).
func promotable(w, r kind) bool {
	switch w {
	case kInt:
		return r == kLong || r == kFloat || r == kDouble
	case kLong:
		return r == kFloat || r == kDouble
	case kFloat:
		return r == kDouble
	case kString:
		return r == kBytes
	case kBytes:
		return r == kString
	}
	return false
}

func mismatch(w *snode, r *rnode, path string) error {
	return fmt.Errorf("%s: writer type %s cannot be read as %s", orTop(path), w.typeName(), r.s.typeName())
}

// timeUnit returns the family and the power of ten per second of a time
// logical type, or "" for other types.
func timeUnit(logical string) (family string, exp int) {
	switch logical {
	case "time-millis":
		return "time", 3
	case "time-micros":
		return "time", 6
	case "timestamp-millis", "local-timestamp-millis":
		return "timestamp", 3
	case "timestamp-micros", "local-timestamp-micros":
		return "timestamp", 6
	case "timestamp-nanos", "local-timestamp-nanos":
		return "timestamp", 9
	}
	return "", 0
}

func (d *Decoder) compileValue(w *snode, r *rnode, path string) (*pop, error) {
	rs := r.s
	op := &pop{tag: -1, path: path}
	if w.kind != rs.kind && !promotable(w.kind, rs.kind) {
		return nil, mismatch(w, r, path)
	}
	switch rs.kind {
	case kNull:
		op.code = pNull
	case kBoolean:
		op.code = pBool
	case kInt, kLong:
		op.code = pInt
		if w.kind == kLong {
			op.code = pLong
		}
		// Both sides say what unit a time value is in: convert rather
		// than reinterpret (micros read as millis would be 1000x off).
		wf, we := timeUnit(w.logical)
		rf, re := timeUnit(rs.logical)
		if wf != "" && wf == rf && we != re {
			op.wide = w.kind == kLong
			op.code = pScaled
			if re > we {
				op.mul = int64(math.Pow10(re - we))
			} else {
				op.div = int64(math.Pow10(we - re))
			}
		}
	case kFloat:
		op.code = [...]pcode{kInt: pIntFloat, kLong: pLongFloat, kFloat: pFloat}[w.kind]
	case kDouble:
		op.code = [...]pcode{kInt: pIntDouble, kLong: pLongDouble, kFloat: pFloatDouble, kDouble: pDouble}[w.kind]
	case kString:
		op.code = pString
	case kBytes:
		op.code = pBytes
		if rs.logical == "decimal" {
			if w.kind != kBytes {
				return nil, mismatch(w, r, path)
			}
			if err := decimalOp(op, w, rs, path); err != nil {
				return nil, err
			}
			op.code = pDecBytes
		}
	case kFixed:
		if !namesMatch(w, rs) {
			return nil, fmt.Errorf("%s: writer %s and reader %s have different names", orTop(path), w.typeName(), rs.typeName())
		}
		if w.size != rs.size {
			return nil, fmt.Errorf("%s: writer %s has size %d, reader %s has size %d", orTop(path), w.name, w.size, rs.name, rs.size)
		}
		op.code, op.n = pFixed, rs.size
		if rs.logical == "decimal" {
			if err := decimalOp(op, w, rs, path); err != nil {
				return nil, err
			}
			op.code = pDecFixed
		}
	case kEnum:
		if !namesMatch(w, rs) {
			return nil, fmt.Errorf("%s: writer %s and reader %s have different names", orTop(path), w.typeName(), rs.typeName())
		}
		op.code, op.wsymbols = pEnum, w.symbols
		op.enumMap = make([]int32, len(w.symbols))
		for i, s := range w.symbols {
			j := slices.Index(rs.symbols, s)
			if j < 0 {
				j = rs.enumDefault // -1 when the reader has none
			}
			op.enumMap[i] = int32(j)
		}
	case kArray:
		elem, err := d.compile(w.items, r.elem, path+"[]")
		if err != nil {
			return nil, err
		}
		op.code, op.elem, op.minSize = pArray, elem, minSize(w.items)
	case kMap:
		elem, err := d.compile(w.values, r.elem, path+"{}")
		if err != nil {
			return nil, err
		}
		op.code, op.elem, op.minSize = pMap, elem, 1+minSize(w.values)
	case kRecord:
		if !namesMatch(w, rs) {
			return nil, fmt.Errorf("%s: writer %s and reader %s have different names (and no alias)", orTop(path), w.typeName(), rs.typeName())
		}
		return d.compileRecord(op, w, r, path)
	}
	return op, nil
}

func decimalOp(op *pop, w, rs *snode, path string) error {
	if w.logical == "decimal" && w.scale != rs.scale {
		return fmt.Errorf("%s: writer decimal scale %d, reader scale %d", orTop(path), w.scale, rs.scale)
	}
	op.prec = rs.precision
	if rs.precision > 38 {
		op.wide = true
		op.bound256 = decimal256.GetScaleMultiplier(rs.precision)
	} else {
		op.bound128 = decimal128.GetScaleMultiplier(rs.precision)
	}
	return nil
}

func (d *Decoder) compileRecord(op *pop, w *snode, r *rnode, path string) (*pop, error) {
	rs := r.s
	// match[i]: the writer field read into reader field i, -1 none.
	match := make([]int, len(rs.fields))
	taken := make([]bool, len(w.fields))
	for i, f := range rs.fields {
		match[i] = -1
		for _, name := range append([]string{f.name}, f.aliases...) {
			j := slices.IndexFunc(w.fields, func(wf sfield) bool { return wf.name == name })
			if j >= 0 && !taken[j] {
				match[i], taken[j] = j, true
				break
			}
		}
	}
	inOrder := true
	last := -1
	for _, j := range match {
		if j >= 0 {
			if j < last {
				inOrder = false
			}
			last = j
		}
	}
	var steps []step
	var seq []*pop
	next := 0 // next writer field to consume (in order)
	for i, f := range rs.fields {
		fp := joinPath(path, f.name)
		j := match[i]
		if j < 0 {
			def, err := d.defaultSlots(r, i, fp)
			if err != nil {
				return nil, err
			}
			steps = append(steps, step{def: def})
			seq = append(seq, finish(&pop{code: pConst, tag: -1, def: def, path: fp}))
			continue
		}
		fop, err := d.compile(w.fields[j].typ, r.fields[i], fp)
		if err != nil {
			return nil, err
		}
		if inOrder {
			for ; next < j; next++ { // writer-only fields before this one
				seq = appendFlat(seq, skipOp(w.fields[next].typ, joinPath(path, w.fields[next].name)))
			}
			next = j + 1
		}
		steps = append(steps, step{op: fop, w: j})
		seq = appendFlat(seq, fop)
	}
	if inOrder {
		for ; next < len(w.fields); next++ {
			seq = appendFlat(seq, skipOp(w.fields[next].typ, joinPath(path, w.fields[next].name)))
		}
		op.code, op.seq = pRecord, seq
		return op, nil
	}
	op.code, op.steps = pRecordReordered, steps
	for _, wf := range w.fields {
		op.wfields = append(op.wfields, skipOp(wf.typ, joinPath(path, wf.name)))
	}
	return op, nil
}

// defaultSlots returns the tape slots of the default of reader record r's
// field i, made once: the default is encoded in Avro binary (into the
// decoder's constant pool) and read back with the reader's own program,
// so defaults need no code of their own in the append phase.
func (d *Decoder) defaultSlots(r *rnode, i int, path string) ([]uint64, error) {
	if r.defaults[i] != nil || r.defaultsErr[i] != nil {
		return r.defaults[i], r.defaultsErr[i]
	}
	f := r.s.fields[i]
	slots, err := func() ([]uint64, error) {
		if !f.hasDefault {
			return nil, fmt.Errorf("%s: the writer schema has no field %q and the reader's field has no default", path, f.name)
		}
		enc, err := encodeDefault(nil, f.typ, f.def)
		if err != nil {
			return nil, fmt.Errorf("%s: default %v: %v", path, f.def, err)
		}
		op, err := d.compile(f.typ, r.fields[i], path)
		if err != nil {
			return nil, err
		}
		start := len(d.consts)
		if start+len(enc) > maxSpanOff {
			return nil, fmt.Errorf("%s: defaults take more than %d bytes", path, maxSpanOff)
		}
		d.consts = append(d.consts, enc...)
		src, tape, flag, budget := d.src, d.tape, d.spanFlag, d.budget
		d.src, d.tape, d.spanFlag, d.budget = d.consts, make([]uint64, 0, 8), constSpan, zeroBudget(len(enc))
		end, err := d.parse(op, start)
		slots := d.tape
		d.src, d.tape, d.spanFlag, d.budget = src, tape, flag, budget
		if err == nil && end != len(d.consts) {
			err = fmt.Errorf("%d bytes left over", len(d.consts)-end)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: default %v does not decode: %v", path, f.def, err)
		}
		return slots, nil
	}()
	if slots == nil {
		slots = []uint64{} // an empty default (null) is still a default
	}
	r.defaults[i], r.defaultsErr[i] = slots, err
	return slots, err
}

// skipOp makes the op that skips a value of writer type w.
func skipOp(w *snode, path string) *pop {
	op := &pop{tag: -1, path: path + " (writer-only)"}
	defer finish(op)
	switch w.kind {
	case kNull:
		op.code = sNothing
	case kBoolean:
		op.code = sByte
	case kInt, kLong, kEnum:
		op.code = sVarint
	case kFloat:
		op.code = s4
	case kDouble:
		op.code = s8
	case kString, kBytes:
		op.code = sBytes
	case kFixed:
		op.code, op.n = sFixed, w.size
	case kRecord:
		op.code = sRecord
		for _, f := range w.fields {
			op.seq = appendFlat(op.seq, skipOp(f.typ, joinPath(path, f.name)))
		}
	case kArray:
		op.code, op.elem, op.minSize = sArray, skipOp(w.items, path+"[]"), minSize(w.items)
	case kMap:
		op.code, op.elem, op.minSize = sMap, skipOp(w.values, path+"{}"), 1+minSize(w.values)
	case kUnion:
		op.code = sUnion
		for _, b := range w.branches {
			op.branch = append(op.branch, skipOp(b, path))
		}
	}
	return op
}

// minSize is the least number of bytes a value of w takes on the wire;
// it bounds item counts by the bytes left.
func minSize(w *snode) int {
	switch w.kind {
	case kNull:
		return 0
	case kFloat:
		return 4
	case kDouble:
		return 8
	case kFixed:
		return w.size
	case kRecord:
		n := 0
		for _, f := range w.fields {
			n += minSize(f.typ)
		}
		return n
	}
	return 1
}
