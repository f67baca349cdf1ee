package state

import "errors"

var errNoPebble = errors.New("state: the on-disk backend is not built yet")

func openPebble(o Options) (Store, error) { return nil, errNoPebble }

func restorePebble(o Options, dir string) (Store, error) { return nil, errNoPebble }
