package core

import "testing"

// TestKeySlot: the slots Redis documents (CLUSTER KEYSLOT), hash tags
// included, and a tag for every slot that lands there.
func TestKeySlot(t *testing.T) {
	if got := crc16("123456789"); got != 0x31C3 {
		t.Errorf("crc16 check value: %#x, want 0x31c3", got)
	}
	for key, want := range map[string]int{
		"somekey": 11058, "foo{hash_tag}": 2515, "bar{hash_tag}": 2515, "hash_tag": 2515,
		"{}hash_tag": keySlot("{}hash_tag"), "foo{": keySlot("foo{"),
	} {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
	if keySlot("{}x") != int(crc16("{}x")%16384) || keySlot("a{b") != int(crc16("a{b")%16384) {
		t.Errorf("an empty or unclosed tag must hash the whole key")
	}
	for slot := 0; slot < 16384; slot++ {
		if got := keySlot("app:durable:{" + slotTag(slot) + "}"); got != slot {
			t.Fatalf("slotTag(%d) = %q lands in slot %d", slot, slotTag(slot), got)
		}
	}
}
