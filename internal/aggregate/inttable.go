package aggregate

// intTable maps int64 keys to group ids. Small non-negative keys, when they
// are dense enough (at most directSpread slots per key), are looked up
// directly by value (direct), an array that stays in the CPU's cache where
// a hash table of as many keys would not; the other keys go to a hash table
// with open addressing and linear probing: one flat array of slots, no
// per-entry allocation, about twice as fast as a Go map for a million keys.
type intTable struct {
	direct []int32 // direct[k]: the id of key k, -1 if none
	keys   []int64
	ids    []int32 // -1: empty slot
	mask   uint64
	count  int // keys in all
	hashed int // keys in the hash table
}

// directSpread bounds the slots of direct per key, directMin is its size
// whatever the keys' count.
const (
	directSpread = 4
	directMin    = 1 << 12
)

func newIntTable() *intTable {
	t := &intTable{}
	t.resize(1024)
	return t
}

func (t *intTable) resize(n int) {
	oldKeys, oldIDs := t.keys, t.ids
	t.keys = make([]int64, n)
	t.ids = make([]int32, n)
	for i := range t.ids {
		t.ids[i] = -1
	}
	t.mask = uint64(n - 1)
	for i, id := range oldIDs {
		if id >= 0 {
			t.insertNew(oldKeys[i], id)
		}
	}
}

// slot spreads the key's bits (Fibonacci hashing, as keys are often dense).
func (t *intTable) slot(k int64) uint64 {
	return (uint64(k) * 0x9E3779B97F4A7C15) >> 32 & t.mask
}

func (t *intTable) insertNew(k int64, id int32) {
	for s := t.slot(k); ; s = (s + 1) & t.mask {
		if t.ids[s] < 0 {
			t.keys[s], t.ids[s] = k, id
			return
		}
	}
}

// find returns the id of k, or -1.
func (t *intTable) find(k int64) int32 {
	if uint64(k) < uint64(len(t.direct)) {
		return t.direct[k]
	}
	if t.hashed == 0 {
		return -1
	}
	for s := t.slot(k); ; s = (s + 1) & t.mask {
		id := t.ids[s]
		if id < 0 || t.keys[s] == k {
			return id
		}
	}
}

// add records a new key; the hash table stays at most half full.
func (t *intTable) add(k int64, id int32) {
	t.count++
	if k >= 0 && uint64(k) >= uint64(len(t.direct)) && k < int64(max(directMin, directSpread*t.count)) {
		t.growDirect(k)
	}
	if uint64(k) < uint64(len(t.direct)) {
		t.direct[k] = id
		return
	}
	if 2*(t.hashed+1) > len(t.ids) {
		t.resize(2 * len(t.ids))
	}
	t.insertNew(k, id)
	t.hashed++
}

// growDirect makes direct hold key k (a power of two of slots), moving the
// hashed keys it now covers out of the hash table.
func (t *intTable) growDirect(k int64) {
	n := max(directMin, len(t.direct))
	for int64(n) <= k {
		n *= 2
	}
	d := make([]int32, n)
	copy(d, t.direct)
	for i := len(t.direct); i < n; i++ {
		d[i] = -1
	}
	t.direct = d
	moved := 0
	for i, id := range t.ids {
		if id >= 0 && uint64(t.keys[i]) < uint64(n) {
			d[t.keys[i]] = id
			moved++
		}
	}
	if moved == 0 {
		return
	}
	oldKeys, oldIDs := t.keys, t.ids
	t.keys = make([]int64, len(oldIDs))
	t.ids = make([]int32, len(oldIDs))
	for i := range t.ids {
		t.ids[i] = -1
	}
	for i, id := range oldIDs {
		if id >= 0 && uint64(oldKeys[i]) >= uint64(n) {
			t.insertNew(oldKeys[i], id)
		}
	}
	t.hashed -= moved
}

// bytes is the memory of the table.
func (t *intTable) bytes() int64 {
	return int64(cap(t.direct))*4 + int64(cap(t.keys))*8 + int64(cap(t.ids))*4
}
