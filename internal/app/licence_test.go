package app_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zwfw/zwfw/internal/app"
	"github.com/zwfw/zwfw/internal/licence"
	"github.com/zwfw/zwfw/internal/store/storetest"
)

// zwfw licence verify: a good file verifies (exit 0, what it says); one
// byte changed in its data or its token, a key the platform does not
// have, or an expired licence fails with the reason in Chinese (exit 1);
// without keys it is a usage error (exit 2). With --db it also asks the
// database, on both databases.
func TestLicenceVerifyCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	setting, err := licence.GenerateKey("l1")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := licence.ParseKeys(setting)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, d licence.Data, k *licence.Keys) string {
		token := k.Sign(&d)
		b, _ := json.MarshalIndent(licence.File{Token: token, Licence: d}, "", "  ")
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	data := licence.Data{Number: "JY2026000001", Type: "食品经营许可证", Holder: "张三", IDKind: "身份证号码", HolderID: "110105********002X",
		Fields: []licence.Field{{Label: "经营场所", Value: "湛河区开源路 8 号"}}, Issuer: "湛河区市场监督管理局", Issued: "2026-01-05",
		Until: "2099-01-04", Case: "41041120260105000001"}
	good := write("good.json", data, keys)
	b, _ := os.ReadFile(good)
	changedData := filepath.Join(dir, "changed.json")
	os.WriteFile(changedData, []byte(strings.Replace(string(b), "开源路", "开元路", 1)), 0o600)
	var f licence.File
	json.Unmarshal(b, &f)
	i := strings.Index(f.Token, ".") + 5
	flipped := f.Token[:i] + map[bool]string{true: "B", false: "A"}[f.Token[i] == 'A'] + f.Token[i+1:]
	changedToken := filepath.Join(dir, "token.txt")
	os.WriteFile(changedToken, []byte(flipped), 0o600)
	stranger, _ := licence.GenerateKey("x9")
	strangerKeys, _ := licence.ParseKeys(stranger)
	unknown := write("unknown.json", data, strangerKeys)
	old := data
	old.Until = "2026-01-04"
	expired := write("expired.json", old, keys)

	run := func(env map[string]string, args ...string) (string, error) {
		var out strings.Builder
		err := app.Run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, io.Discard)
		return out.String(), err
	}
	env := map[string]string{"ZWFW_LICENCE_KEYS": setting, "ZWFW_DATA_DIR": t.TempDir()}
	out, err := run(env, "licence", "verify", good)
	if err != nil || !strings.Contains(out, "证照有效：食品经营许可证 JY2026000001") || !strings.Contains(out, "经营场所：湛河区开源路 8 号") {
		t.Fatalf("good file: %v\n%s", err, out)
	}
	for path, want := range map[string]string{changedData: "证照签名无效", changedToken: "证照签名无效", unknown: "签名密钥不是本平台的密钥", expired: "已超过有效期"} {
		_, err := run(env, "licence", "verify", path)
		if err == nil || app.ExitCode(err) != 1 || !strings.HasPrefix(err.Error(), "证照无效：") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v (exit %d), want %q", filepath.Base(path), err, app.ExitCode(err), want)
		}
	}
	// A key rotated in front keeps the old licence valid.
	rotated, _ := licence.GenerateKey("l2")
	if out, err := run(map[string]string{"ZWFW_LICENCE_KEYS": rotated + "," + setting}, "licence", "verify", good); err != nil || !strings.Contains(out, "签名密钥 l1") {
		t.Fatalf("after rotation: %v\n%s", err, out)
	}
	if _, err := run(map[string]string{"ZWFW_DATA_DIR": t.TempDir()}, "licence", "verify", good); app.ExitCode(err) != 2 {
		t.Fatalf("without keys: %v", err)
	}
	for name, dsn := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"ZWFW_LICENCE_KEYS": setting, "ZWFW_DATABASE_URL": dsn(t)}
			if _, err := run(env, "migrate"); err != nil {
				t.Fatal(err)
			}
			if out, err := run(env, "licence", "verify", good); err != nil || strings.Contains(out, "未查询吊销状态") {
				t.Fatalf("with the database: %v\n%s", err, out)
			}
			if _, err := run(env, "licence", "verify", changedData); app.ExitCode(err) != 1 {
				t.Fatalf("changed, with the database: %v", err)
			}
		})
	}
}
