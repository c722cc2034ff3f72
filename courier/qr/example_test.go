package qr_test

import (
	"fmt"

	"github.com/azs-courier/azs-courier/courier/qr"
)

func ExampleEncodeText() {
	frames, err := qr.EncodeText(qr.KindText, "Hello, air gap!", 15)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range frames {
		fmt.Println(f)
	}
	// Output:
	// AGX1:T0:1/1:GJP0D676:91JPRV3F5GG62TBJ41KP2W11:455Q
}

func ExampleAssembler() {
	// Parts may arrive in any order, typed in lower case with spaces.
	var a qr.Assembler
	for _, s := range []string{
		"agx1:t0:2/2:9opp oekz:431s rvp3n xhpys 3543h 9s4r:ngv6",
		"AGX1:T0:1/2:90PP0EKZ:91JPRV3F5GG62TBJ41KP2W11:C3MS",
	} {
		if _, err := a.AddText(s); err != nil {
			fmt.Println(err)
			return
		}
	}
	m, err := a.Message()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%c %s\n", m.Kind, m.Text)
	// Output:
	// T Hello, air gap! Ünïcode ✓
}
