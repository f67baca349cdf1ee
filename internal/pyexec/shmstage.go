package pyexec

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"

	"github.com/weir-dev/weir/internal/shm"
)

// The Arrow batches of vectorized stages go through the pool's shared-memory
// arena (internal/shm) when it has one: the engine copies an input element's
// IPC stream into a region, reserves a second region for the answer, and
// sends an element whose value only says where both are (a reference). The
// worker reads the stream in place from the file, writes its answer's IPC
// stream into the answer's region, and answers with a reference to it; the
// engine copies the answer out before it frees the regions. An answer larger
// than its region comes back inline, as without the arena; so does
// everything when the arena is full. Through gRPC, each byte cost the worker
// more than the pandas function's work on it (docs/WIRE_FORMAT.md has the
// bytes).
//
// A bundle keeps its regions until its results are complete: a replay on
// another worker sends the same references (the dead worker writes nothing
// more), and the crash search reads the input back from them. A function
// may keep its argument (in a global, a cache) beyond its call, and the
// worker's arrays of it are views of the input's region: the worker then
// reports the bundle's inputs kept (inputsKept) and copies its inputs from
// then on, and the engine never reuses that bundle's input regions.

// shmRef is the first byte of a value that is a reference. An IPC stream
// starts with 0xFF and a continued part of an answer with 0x00 (continued).
const shmRef = 0x01

// arenaPerBundle is the arena's room per bundle in flight: a bundle's input
// (up to maxBundleBytes, and the element that crossed it) and its answers.
const arenaPerBundle = 3 * maxBundleBytes

// maxArenaBytes caps the arena, whose pages are reserved when it is made.
const maxArenaBytes = 256 << 20

// arenaFor returns the pool's arena, made at the first call; nil when the
// batches go inline (python.fn-execution.shared-memory false, no
// /dev/shm, or no room in it).
func (p *Pool) arenaFor() *shm.Arena {
	p.arenaOnce.Do(func() {
		if p.cfg.InlineBatches {
			return
		}
		a, err := shm.New(min(maxArenaBytes, arenaPerBundle*p.cfg.Workers*p.cfg.InFlight))
		if err != nil {
			if !errors.Is(err, shm.ErrUnsupported) {
				p.cfg.Log.Warn("vectorized batches go inside the Fn API's messages: no shared-memory arena", "err", err)
			}
			return
		}
		p.arena = a
	})
	return p.arena
}

// answerRoom is the size of the region reserved for the answer to an
// element of rows rows and inBytes bytes: what the stage's answers took so
// far per row, with a margin; before any, twice the input.
func answerRoom(est *outputEstimate, rows, inBytes int) int {
	est.mu.Lock()
	known, perRow := est.known, est.perRow
	est.mu.Unlock()
	if known {
		return int(perRow*float64(rows)*1.25) + 64<<10
	}
	return 2*inBytes + 64<<10
}

// placeInArena copies the value of element el (an Arrow IPC stream) into a
// region of a and reserves room bytes for its answer. It returns the
// reference element sent instead of el and the two regions; ok is false
// when a has no room for them (el then goes as it is).
func placeInArena(a *shm.Arena, el encoded, room int) (ref encoded, in, out shm.Region, ok bool) {
	value, err := elementValue(el)
	if err != nil {
		return nil, in, out, false
	}
	size := 0
	for _, v := range value {
		size += len(v)
	}
	if in, ok = a.Alloc(size); !ok {
		return nil, in, out, false
	}
	if out, ok = a.Alloc(room); !ok {
		a.Free(in)
		return nil, shm.Region{}, out, false
	}
	dst := a.Bytes(in)
	at := 0
	for _, v := range value {
		at += copy(dst[at:], v)
	}
	buf := make([]byte, elementReserve, elementReserve+16+len(a.Path())+4*binary.MaxVarintLen64)
	buf = appendInputRef(buf, a.Path(), shm.Region{Off: in.Off, Len: size}, out)
	return encoded{wrapElement(buf)}, in, out, true
}

// appendInputRef appends the reference value of an input element: the
// marker, the arena file's path, the input's offset and length, the answer
// region's offset and length.
func appendInputRef(buf []byte, path string, in, out shm.Region) []byte {
	buf = append(buf, shmRef)
	buf = binary.AppendUvarint(buf, uint64(len(path)))
	buf = append(buf, path...)
	for _, v := range []int{in.Off, in.Len, out.Off, out.Len} {
		buf = binary.AppendUvarint(buf, uint64(v))
	}
	return buf
}

// parseInputRef reads an input reference value (for the crash search and
// tests).
func parseInputRef(v []byte) (path string, in, out shm.Region, err error) {
	if len(v) == 0 || v[0] != shmRef {
		return "", in, out, errors.New("not a shared-memory reference")
	}
	v = v[1:]
	n, k := binary.Uvarint(v)
	if k <= 0 || n > uint64(len(v)-k) {
		return "", in, out, errors.New("bad path in a shared-memory reference")
	}
	path, v = string(v[k:k+int(n)]), v[k+int(n):]
	var nums [4]int
	for i := range nums {
		x, k := binary.Uvarint(v)
		if k <= 0 || x > 1<<48 {
			return "", in, out, errors.New("bad number in a shared-memory reference")
		}
		nums[i], v = int(x), v[k:]
	}
	if len(v) != 0 {
		return "", in, out, errors.New("extra bytes after a shared-memory reference")
	}
	return path, shm.Region{Off: nums[0], Len: nums[1]}, shm.Region{Off: nums[2], Len: nums[3]}, nil
}

// parseAnswerRef reads a worker's answer reference: the marker, then the
// offset and length of the answer's IPC stream in the arena.
func parseAnswerRef(v []byte) (off, n int, err error) {
	if len(v) == 0 || v[0] != shmRef {
		return 0, 0, errors.New("not a shared-memory reference")
	}
	v = v[1:]
	o, k := binary.Uvarint(v)
	if k <= 0 || o > 1<<48 {
		return 0, 0, errors.New("bad offset in a shared-memory answer")
	}
	l, k2 := binary.Uvarint(v[k:])
	if k2 <= 0 || l > 1<<48 || k+k2 != len(v) {
		return 0, 0, errors.New("bad length in a shared-memory answer")
	}
	return int(o), int(l), nil
}

// elementValue is the value of an encoded element (its bytes after the
// windowed value's header and length), as parts.
func elementValue(el encoded) ([][]byte, error) {
	if len(el) == 0 || len(el[0]) < len(elementHeader) {
		return nil, errors.New("pyexec: element without a header")
	}
	n, k := binary.Uvarint(el[0][len(elementHeader):])
	if k <= 0 {
		return nil, errors.New("pyexec: element without a length")
	}
	out := make([][]byte, 0, len(el))
	if first := el[0][len(elementHeader)+k:]; len(first) > 0 {
		out = append(out, first)
	}
	out = append(out, el[1:]...)
	size := 0
	for _, v := range out {
		size += len(v)
	}
	if uint64(size) != n {
		return nil, fmt.Errorf("pyexec: element of %d bytes states %d", size, n)
	}
	return out, nil
}

// resolveAnswers replaces the answers of b's elements that are references
// to the arena by copies of the answers' bytes (the regions are freed with
// the bundle, while the results live on). groups[i] is the answer of element
// i, in parts.
func resolveAnswers(b *bundle, groups [][][]byte) error {
	for i, parts := range groups {
		if len(parts) != 1 || len(parts[0]) == 0 || parts[0][0] != shmRef {
			continue
		}
		if b.arena == nil || i >= len(b.outs) || b.outs[i].Len == 0 {
			return fmt.Errorf("answer %d is a shared-memory reference to an element sent inline", i+1)
		}
		off, n, err := parseAnswerRef(parts[0])
		if err != nil {
			return fmt.Errorf("answer %d: %w", i+1, err)
		}
		if !b.outs[i].Within(off, n) {
			return fmt.Errorf("answer %d is at [%d, %d) of the shared memory, outside its region [%d, %d)", i+1, off, off+n, b.outs[i].Off, b.outs[i].End())
		}
		groups[i] = [][]byte{bytes.Clone(b.arena.Bytes(shm.Region{Off: off, Len: n}))}
	}
	return nil
}

// inputValue is the input of an element's value: the value itself, or for
// a reference a copy of the IPC stream in the arena (for the crash search).
func (b *bundle) inputValue(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != shmRef {
		return v, nil
	}
	if b.arena == nil {
		return nil, errors.New("a shared-memory reference without an arena")
	}
	_, in, _, err := parseInputRef(v)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b.arena.Bytes(in)), nil
}

// keptInputsName is the counter (in progressNamespace) by which a worker
// reports the inputs of a bundle that stayed referred to after their
// element (python/weir/_vectorized_io.py).
const keptInputsName = "inputs_kept"

// inputsKept is how many inputs of a bundle its worker reported kept in
// the bundle's response r.
func inputsKept(r *fnpb.ProcessBundleResponse) int64 {
	var n int64
	for _, mi := range r.GetMonitoringInfos() {
		if mi.GetLabels()["NAMESPACE"] != progressNamespace || mi.GetLabels()["NAME"] != keptInputsName {
			continue
		}
		if vs, ok := varints(mi.GetPayload()); ok && len(vs) == 1 {
			n += vs[0]
		}
	}
	return n
}

// keepInputs leaves b's input regions out of the arena for good (a worker
// still refers to them): b then holds only its answers' regions, which
// freeRegions frees. It returns the bytes kept.
func (b *bundle) keepInputs() int {
	kept := 0
	for _, r := range b.regions {
		kept += r.Len
	}
	answers := b.regions[:0]
	for _, r := range b.outs {
		if r.Len > 0 {
			answers = append(answers, r)
			kept -= r.Len
		}
	}
	b.regions = answers
	return kept
}

// leaveKeptInputs leaves the input regions of b out of the arena for good:
// its worker reported that a function of stage s kept an input beyond its
// call. A worker does so at most once per bundle in flight (it copies its
// inputs afterwards), so what the arena loses is bounded.
func (p *Pool) leaveKeptInputs(s *Stage, b *bundle) {
	n := b.keepInputs()
	p.cfg.Log.Info("a Python function kept its input batch after its call: that batch's shared memory stays out of use until the job ends, and the worker copies its inputs from now on",
		"stage", s.Spec.GetName(), "functions", functionNames(s), "bytes", n)
}

// freeRegions gives b's regions back to the arena.
func (b *bundle) freeRegions() {
	for _, r := range b.regions {
		b.arena.Free(r)
	}
	b.regions, b.outs = nil, nil
}
