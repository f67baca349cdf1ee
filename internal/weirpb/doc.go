// Package weirpb is the generated Go code of proto/weir.proto: the payload
// of weir's Python stages (which functions a stage calls, and how their
// arguments come from the input rows). Regenerate it with `make proto`.
package weirpb
