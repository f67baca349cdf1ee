package connector

import (
	"github.com/apache/arrow-go/v18/arrow"

	"github.com/weir-dev/weir/internal/types"
)

// AppendValue appends row i of a, of SQL type t, as the print connector
// shows it (Java's toString of Flink's external value; null for a null).
func AppendValue(b []byte, a arrow.Array, i int, t types.T) []byte {
	return appendJava(b, a, i, t)
}
