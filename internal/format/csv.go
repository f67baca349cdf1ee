package format

var csvOptions = []string{}

func openCSV(f *Format, get Getter) error { return errNotYet("csv") }
