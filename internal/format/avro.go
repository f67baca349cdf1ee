package format

var avroOptions = []string{}

func openAvro(f *Format, get Getter) error { return errNotYet("avro") }
