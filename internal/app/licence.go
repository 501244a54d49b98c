package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/calendar"
	"github.com/zwfw/zwfw/internal/clock"
	"github.com/zwfw/zwfw/internal/config"
	"github.com/zwfw/zwfw/internal/licence"
)

// licenceKeyID names a new licence key by the day it was made, so that a
// rotated key gets a new id (the id travels in every licence).
func licenceKeyID() string { return "l" + time.Now().In(clock.China).Format("20060102") }

// licenceKeys are the configured licence keys, or the demo's from the data
// folder when none are configured; nil when there are neither.
func licenceKeys(cfg config.Config) (*licence.Keys, error) {
	setting := cfg.LicenceKeys
	if setting == "" {
		b, err := os.ReadFile(filepath.Join(cfg.DataDir, "keys.json"))
		if err != nil {
			return nil, nil
		}
		var k struct {
			LicenceKeys string `json:"licence_keys"`
		}
		if json.Unmarshal(b, &k) != nil || k.LicenceKeys == "" {
			return nil, nil
		}
		setting = k.LicenceKeys
	}
	k, err := licence.ParseKeys(setting)
	if err != nil {
		return nil, usageError{fmt.Errorf("配置错误 ZWFW_LICENCE_KEYS：%w", err)}
	}
	return k, nil
}

// runLicenceVerify verifies a licence file (or token) as the public page
// does: from its signed data alone, and with --db also whether the
// platform has revoked or cancelled it. An invalid licence is an error
// (exit status 1) that says why.
func runLicenceVerify(ctx context.Context, env *environment) error {
	keys, err := licenceKeys(env.cfg)
	if err != nil {
		return err
	}
	if keys == nil {
		return usageError{errors.New("配置错误 ZWFW_LICENCE_KEYS：未设置电子证照密钥（与 serve 所用的相同）")}
	}
	b, err := os.ReadFile(env.args[0])
	if err != nil {
		return fmt.Errorf("无法读取证照文件：%w", err)
	}
	token, err := licence.ReadFile(b)
	if err != nil {
		return fmt.Errorf("证照无效：%s", apperr.MessageOf(err))
	}
	var v licence.Verification
	if env.cfg.DatabaseURL != "" {
		db, err := openDB(ctx, env.cfg, env.cfg.DatabaseURL)
		if err != nil {
			return err
		}
		defer db.Close()
		if v, err = licence.New(db, licence.Options{Keys: keys}).Verify(ctx, token); err != nil {
			return err
		}
	} else {
		v.Data, err = keys.Verify(token, calendar.DateOf(time.Now()))
		v.Valid = err == nil
		if err != nil {
			v.Problem = apperr.MessageOf(err)
		}
	}
	if !v.Valid {
		return fmt.Errorf("证照无效：%s", v.Problem)
	}
	d := v.Data
	until := d.Until
	if until == "" {
		until = "长期"
	}
	fmt.Fprintf(env.stdout, "证照有效：%s %s\n持证者：%s（%s %s）\n发证机关：%s，发证日期 %s，有效期至 %s；签名密钥 %s\n",
		d.Type, d.Number, d.Holder, d.IDKind, d.HolderID, d.Issuer, d.Issued, until, d.KeyID)
	for _, f := range d.Fields {
		fmt.Fprintf(env.stdout, "%s：%s\n", f.Label, f.Value)
	}
	if env.cfg.DatabaseURL == "" {
		fmt.Fprintln(env.stdout, "未查询吊销状态（指定 --db 以查询平台的吊销、注销记录）")
	}
	return nil
}
