package connector

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// idlePoll is how long a Kafka source waits for records before Next
// returns a batch of no rows.
const idlePoll = 200 * time.Millisecond

// startClient starts the client reading each partition of s.next from its
// offset (none when there is nothing to read).
func (s *kafkaSource) startClient() error {
	s.cur = -1
	if s.client != nil {
		s.client.Close()
		s.client = nil
	}
	s.pending = nil
	consume := map[int32]kgo.Offset{}
	for p, off := range s.next {
		if s.bounded {
			end, ok := s.end[p]
			if !ok {
				continue
			}
			if off >= end {
				delete(s.end, p)
				continue
			}
		}
		consume[p] = kgo.NewOffset().At(off)
	}
	if len(consume) == 0 {
		return nil
	}
	var err error
	s.client, err = kgo.NewClient(s.c.clientOpts(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.c.topic: consume}), kgo.KeepControlRecords())...)
	if err != nil {
		return fmt.Errorf("table '%s': kafka: %w", s.c.table, err)
	}
	return nil
}

// flushNext puts the latest partition's offset into next.
func (s *kafkaSource) flushNext() {
	if s.cur >= 0 {
		s.next[s.cur] = s.curNext
	}
}

// Position is, per partition, the offset after the last record in a batch
// Next returned (the checkpoint encoding: a count, then partition and
// offset pairs, varints, by partition).
func (s *kafkaSource) Position() ([]byte, error) {
	s.idle = true
	s.flushNext()
	ps := make([]int32, 0, len(s.next))
	for p := range s.next {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	out := binary.AppendUvarint(nil, uint64(len(ps)))
	for _, p := range ps {
		out = binary.AppendVarint(out, int64(p))
		out = binary.AppendVarint(out, s.next[p])
	}
	return out, nil
}

// Seek starts reading each partition at its offset in pos, whatever
// 'scan.startup.mode' says (as Flink's source restored from a
// checkpoint); partitions pos does not name start as the mode says.
func (s *kafkaSource) Seek(pos []byte) error {
	bad := fmt.Errorf("table '%s': checkpoint position %x is not one of a Kafka source", s.c.table, pos)
	n, k := binary.Uvarint(pos)
	if k <= 0 || n > 1<<20 {
		return bad
	}
	pos = pos[k:]
	for i := uint64(0); i < n; i++ {
		p, k := binary.Varint(pos)
		if k <= 0 {
			return bad
		}
		pos = pos[k:]
		off, k := binary.Varint(pos)
		if k <= 0 {
			return bad
		}
		pos = pos[k:]
		s.next[int32(p)] = off
	}
	if len(pos) != 0 {
		return bad
	}
	s.idle = true
	return s.startClient()
}
