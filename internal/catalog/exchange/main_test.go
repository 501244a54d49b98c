package exchange_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain bounds the minimisation of each new input the fuzzer finds.
// By default Go spends up to a minute shrinking every one, running the
// target thousands of times on an input of a kilobyte or more (the CSV
// header alone is that long); FuzzImportCSV then spent its time
// minimising, not exploring (7–10 executions in 30 s). A hundred tries
// keep most of the shrinking. -fuzzminimizetime on the command line wins.
func TestMain(m *testing.M) {
	flag.Parse()
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.fuzzminimizetime" })
	if !set {
		if err := flag.Set("test.fuzzminimizetime", "100x"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
