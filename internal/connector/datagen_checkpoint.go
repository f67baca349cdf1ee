package connector

import (
	"encoding/binary"
	"fmt"
	"time"
)

// Position is the number of rows the datagen source has produced (the
// checkpoint encoding: a varint).
func (d *datagen) Position() ([]byte, error) {
	return binary.AppendVarint(nil, d.emitted), nil
}

// Seek moves the source past the first rows of a position: it generates
// them again (the generators are deterministic: sequences and seeded
// random columns) and drops them, so the rows after are the ones an
// uninterrupted run gives. 'rows-per-second' paces the rows after it.
func (d *datagen) Seek(pos []byte) error {
	n, k := binary.Varint(pos)
	if k <= 0 || k != len(pos) || n < 0 {
		return fmt.Errorf("datagen: position %x is not one of a datagen source", pos)
	}
	if d.total >= 0 && n > d.total {
		return fmt.Errorf("datagen: position at row %d is beyond 'number-of-rows' = %d (was the table changed?)", n, d.total)
	}
	if d.emitted != 0 {
		return fmt.Errorf("datagen: seek after rows were produced")
	}
	for left := n; left > 0; {
		m := min(left, int64(max(d.batchSize, 1<<14)))
		for _, c := range d.cols {
			if l := c.gen.left(); l >= 0 && l < m {
				return fmt.Errorf("datagen: position at row %d is beyond the end of a sequence column (was the table changed?)", n)
			}
		}
		for _, c := range d.cols {
			c.next(d.mem, int(m)).Release()
		}
		left -= m
	}
	d.emitted = n
	if d.rate > 0 {
		d.start = time.Now().Add(-time.Duration(float64(n) / d.rate * float64(time.Second)))
	}
	return nil
}
