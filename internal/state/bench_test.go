package state

import (
	"encoding/binary"
	"testing"
)

// BenchmarkUpdate is a keyed sum's read-modify-write of one group's
// accumulator, groups at random among 1M, writes applied in batches of 1000.
func BenchmarkUpdate(b *testing.B) {
	for _, backend := range backends {
		b.Run(backend, func(b *testing.B) {
			s, err := Open(Options{Backend: backend})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			const groups = 1 << 20
			var key [8]byte
			val := make([]byte, 8)
			batch := new(Batch)
			x := uint64(1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x = x*6364136223846793005 + 1442695040888963407
				binary.BigEndian.PutUint64(key[:], (x>>33)%groups)
				old, ok, err := s.Get(key[:])
				if err != nil {
					b.Fatal(err)
				}
				sum := uint64(0)
				if ok {
					sum = binary.LittleEndian.Uint64(old)
				}
				binary.LittleEndian.PutUint64(val, sum+1)
				batch.Put(key[:], val)
				if batch.Len() == 1000 {
					if err := s.Apply(batch); err != nil {
						b.Fatal(err)
					}
					batch.Reset()
				}
			}
		})
	}
}
