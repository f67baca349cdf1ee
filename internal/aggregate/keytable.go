package aggregate

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// KeyTable gives each distinct key (one or more columns of the given Arrow
// types) a dense id from 0, with the hashing of GROUP BY keys, and looks keys
// up without adding them: the table a hash join builds over its build side.
// It keeps no key values. A NULL in a key is a value like any other here;
// callers that must not match NULLs (joins) skip those rows.
type KeyTable struct{ g *groups }

// NewKeyTable returns an empty table for keys of the given types; every key
// column given to it later must have these types.
func NewKeyTable(keyTypes []arrow.DataType) *KeyTable {
	g := &groups{nullID: -1}
	switch {
	case len(keyTypes) == 1 && intLike(keyTypes[0]):
		g.ints = newIntTable()
	case len(keyTypes) == 1 && (keyTypes[0].ID() == arrow.STRING || keyTypes[0].ID() == arrow.BINARY):
		g.strs = map[string]int32{}
	default:
		g.bytes = map[string]int32{}
	}
	return &KeyTable{g: g}
}

// Len is the number of distinct keys added.
func (t *KeyTable) Len() int { return int(t.g.n) }

// Add fills ids (one per row of the key columns) with the id of each row's
// key, adding the keys not seen before.
func (t *KeyTable) Add(keys []arrow.Array, ids []int32) error { return t.g.assign(keys, ids) }

// Find fills ids with the id of each row's key, or -1 for a key never added.
func (t *KeyTable) Find(keys []arrow.Array, ids []int32) error {
	g := t.g
	if len(keys) == 0 {
		v := int32(-1)
		if g.n > 0 {
			v = 0
		}
		for i := range ids {
			ids[i] = v
		}
		return nil
	}
	col := keys[0]
	switch {
	case g.ints != nil:
		vals, err := g.int64Values(col)
		if err != nil {
			return err
		}
		nulls := col.NullN() > 0
		for i, v := range vals {
			if nulls && col.IsNull(i) {
				ids[i] = g.nullID
				continue
			}
			ids[i] = g.ints.find(v)
		}
	case g.strs != nil:
		nulls := col.NullN() > 0
		find := func(i int, v string) {
			if nulls && col.IsNull(i) {
				ids[i] = g.nullID
				return
			}
			id, ok := g.strs[v]
			if !ok {
				id = -1
			}
			ids[i] = id
		}
		eachString(col, find)
	default:
		enc, err := g.encodeKeys(keys, len(ids))
		if err != nil {
			return err
		}
		for i, e := range enc {
			id, ok := g.bytes[string(e)]
			if !ok {
				id = -1
			}
			ids[i] = id
		}
	}
	return nil
}
