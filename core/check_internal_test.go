package core

import "testing"

// TestCheckInfoServers: the version rule (Redis 6.2 or newer, or Valkey)
// and INFO of the servers the store meets.
func TestCheckInfoServers(t *testing.T) {
	cases := []struct {
		info map[string]string
		want Level
	}{
		{map[string]string{"redis_version": "6.0.9"}, LevelUnsafe},
		{map[string]string{"redis_version": "5.0.14"}, LevelUnsafe},
		{map[string]string{"redis_version": "6.2.0"}, LevelOK},
		{map[string]string{"redis_version": "7.0.15"}, LevelOK},
		{map[string]string{"redis_version": "7.2.4", "server_name": "valkey", "valkey_version": "8.0.1"}, LevelOK},
		{map[string]string{}, LevelWarning},
	}
	for _, c := range cases {
		var got []Finding
		for _, f := range checkInfo("n:1", c.info) {
			if f.Topic == "server" {
				got = append(got, f)
			}
		}
		if len(got) != 1 || got[0].Level != c.want {
			t.Errorf("INFO %v: server findings %v, want one %v", c.info, got, c.want)
		}
	}
	// A managed server that refuses CONFIG: INFO still decides eviction,
	// and an unreadable snapshot schedule is said, not guessed.
	fs := checkInfo("n:1", map[string]string{"redis_version": "7.2.4", "maxmemory": "100", "maxmemory_policy": "volatile-lru",
		"aof_enabled": "0", "rdb_saves": "0"})
	levels := map[string]Level{}
	for _, f := range fs {
		levels[f.Topic] = f.Level
	}
	if levels["eviction"] != LevelUnsafe || levels["persistence"] != LevelWarning {
		t.Errorf("volatile-lru, CONFIG refused: %v, want eviction unsafe and persistence a warning", fs)
	}
}
