package identity

import (
	"cmp"
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/zwfw/zwfw/internal/apperr"
	"github.com/zwfw/zwfw/internal/audit"
	"github.com/zwfw/zwfw/internal/password"
	"github.com/zwfw/zwfw/internal/policy"
	"github.com/zwfw/zwfw/internal/store"
)

// accountRef says how passwordSignIn finds an account, and what the limits
// know it by: the same key whether or not it exists.
type accountRef struct {
	kind, column, value string // accounts.kind, the column that finds it, and its value
	key                 string // see limitKey
	method              string // for the sign-in history
	bad                 error  // the answer to wrong credentials
}

// passwordSignIn checks a password (and for staff a TOTP code) within the
// sign-in limits (see limits.go) and starts a session. An unknown account
// goes through every step a known one does — the limits, a hash — and
// gets the same answers.
//
// The hash is checked before the transaction, not in it: on SQLite a
// transaction holds the one writer connection, so a hash inside it made
// every sign-in wait for all the others' hashes (50 staff signing in at a
// shift change waited up to 4.7 s). The transaction then checks that the
// account still has the hash that was verified, and the limits again.
func (s *Service) passwordSignIn(ctx context.Context, by accountRef, pass, totpCode string, meta Meta) (string, error) {
	var token string
	var failure error
	now := s.opt.Clock.Now()
	try := attempt{key: by.key, ip: meta.IP}
	const account = `SELECT id, kind, password_hash, totp_sealed, totp_required, totp_last_step, disabled FROM accounts WHERE kind = ? AND `
	var seen string     // the hash verified outside the transaction
	var throttled error // the limits' answer before any hash
	verified := false
	if err := s.db.Read().QueryRow(ctx, account+by.column+` = ?`, by.kind, by.value).Scan(new(int64), new(string), &seen,
		new(string), new(bool), new(int64), new(bool)); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	// A throttled attempt costs no hash: the limits also bound the work a
	// guesser can make the server do.
	if _, err := s.admit(ctx, s.db.Read(), try); apperr.Is(err, apperr.TooMany) {
		throttled = err
	} else if err != nil {
		return "", err
	}
	var rehash string
	if throttled == nil {
		// An unknown account, or one without a password, is checked
		// against a dummy hash, so that it takes as long as a wrong password.
		check := seen
		if check == "" {
			check = dummyHash()
		}
		ok, err := password.Verify(check, pass)
		if err != nil {
			return "", err
		}
		verified = ok && seen != ""
		if verified && password.NeedsRehash(seen) {
			// Hashed with other parameters than today's: the transaction
			// stores a new hash of the password just verified.
			if rehash, err = password.Hash(pass); err != nil {
				return "", err
			}
		}
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var id, lastStep int64
		var kind, hash, totpSealed string
		var disabled, totpRequired bool
		err := tx.QueryRow(ctx, account+by.column+` = ?`, by.kind, by.value).
			Scan(&id, &kind, &hash, &totpSealed, &totpRequired, &lastStep, &disabled)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		known, err := s.admit(ctx, tx, try)
		if throttled != nil || apperr.Is(err, apperr.TooMany) {
			failure = cmp.Or(err, throttled)
			return s.refused(ctx, tx, id, by.method, "登录受限（失败次数过多）", meta)
		}
		if err != nil {
			return err
		}
		if hash != seen {
			// The password changed between the check and now.
			failure = apperr.New(apperr.Conflict, "账户密码刚刚更改，请重新登录。")
			return nil
		}
		ok := verified
		reason := "密码错误"
		if id == 0 {
			reason = "账户不存在"
		}
		var step int64
		if ok && kind == "staff" && s.opt.RequireTOTP && totpRequired {
			step = s.checkTOTP(totpSealed, totpCode, now, lastStep)
			ok, reason = step > 0, "动态验证码错误"
		}
		if !ok {
			// One answer for an unknown account, a wrong password and (for
			// staff) a wrong code: a wrong code must not confirm that the
			// password was right.
			failure = by.bad
			until, err := s.failure(ctx, tx, try, known)
			if err != nil {
				return err
			}
			if !until.IsZero() {
				failure = errThrottled(until.Sub(now))
			}
			return s.refused(ctx, tx, id, by.method, reason, meta)
		}
		if disabled {
			failure = apperr.New(apperr.Forbidden, "该账户已停用，请联系管理员。")
			return s.failed(ctx, tx, id, by.method, "账户已停用", meta)
		}
		if err := s.throttle.Succeed(ctx, tx, try.pair()); err != nil {
			return err
		}
		if rehash != "" {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, rehash, id); err != nil {
				return err
			}
		}
		if step > 0 {
			if _, err := tx.Exec(ctx, `UPDATE accounts SET totp_last_step = ? WHERE id = ?`, step, id); err != nil {
				return err
			}
		}
		if token, err = s.newSession(ctx, tx, id, meta); err != nil {
			return err
		}
		return s.succeeded(ctx, tx, id, by.method, meta)
	})
	if err == nil {
		err = failure
	}
	return token, err
}

// refused records a refused sign-in: in the account's history and the
// audit log, or for an unknown account in the sign-in records only.
func (s *Service) refused(ctx context.Context, tx *store.Tx, id int64, method, reason string, meta Meta) error {
	if id == 0 {
		return s.recordSignIn(ctx, tx, 0, method, false, reason, meta)
	}
	return s.failed(ctx, tx, id, method, reason, meta)
}

// totpPeriod is the TOTP time step; a code of the step before or after
// the current one is accepted, for clocks a little apart.
const totpPeriod = 30

// checkTOTP returns the time step of the code if it is right and newer
// than the last step that signed the account in, or 0. A code is thus
// used once, and after a newer one an older window's code is refused.
func (s *Service) checkTOTP(sealed, code string, now time.Time, lastStep int64) int64 {
	code = strings.TrimSpace(code)
	if sealed == "" || len(code) != 6 {
		return 0
	}
	secret, err := s.opt.Keys.Open(sealed, ctxTOTP)
	if err != nil {
		s.opt.Log.Error("open totp secret", "err", err)
		return 0
	}
	opts := totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	current := now.Unix() / totpPeriod
	for step := current - 1; step <= current+1; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), opts)
		if err == nil && step > lastStep && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// SignInStaff signs a staff member in with user name, password and the
// code from their authenticator app.
func (s *Service) SignInStaff(ctx context.Context, username, pass, totpCode string, meta Meta) (string, error) {
	name := normaliseUsername(username)
	return s.passwordSignIn(ctx, accountRef{kind: "staff", column: "username", value: name, key: s.staffKey(name),
		method: "staff", bad: errBadStaffCredentials}, pass, totpCode, meta)
}

// normaliseUsername is a user name as accounts store it: user names are
// lower case (usernamePattern).
func normaliseUsername(u string) string { return strings.ToLower(strings.TrimSpace(u)) }

var errBadStaffCredentials = apperr.New(apperr.Unauthorized, "用户名、密码或动态验证码不正确。")

// dummyHash is an argon2id hash of nothing anyone types, checked against
// the password given for an unknown user name.
var dummyHash = sync.OnceValue(func() string {
	h, err := password.Hash("zwfw unknown user " + time.Now().String())
	if err != nil {
		panic(err)
	}
	return h
})

// NewStaff is what an administrator gives to open a staff account.
type NewStaff struct {
	Username     string
	Name         string
	DepartmentID int64
	Roles        []policy.Role
	Password     string
}

var usernamePattern = regexp.MustCompile(`^[a-z][a-z0-9_.-]{2,31}$`)

// CreateStaff opens a staff account and returns it with the otpauth:// URL
// of its TOTP secret, to be shown once so that the person can add it to an
// authenticator app. Only administrators may (the command line acts as
// one).
func (s *Service) CreateStaff(ctx context.Context, who policy.Subject, meta Meta, n NewStaff) (Account, string, error) {
	if err := policy.Check(who, policy.Edit, accountsAdmin); err != nil {
		return Account{}, "", err
	}
	now := s.opt.Clock.Now()
	var problems []string
	if !usernamePattern.MatchString(n.Username) {
		problems = append(problems, "用户名应为3至32位小写字母、数字、下划线、点或连字符，以字母开头")
	}
	if c := utf8.RuneCountInString(strings.TrimSpace(n.Name)); c < 2 || c > 30 {
		problems = append(problems, "姓名应为2至30个字")
	}
	if len(n.Roles) == 0 {
		problems = append(problems, "至少分配一个角色")
	}
	for _, r := range n.Roles {
		if r.Name() == "" {
			problems = append(problems, "角色 "+string(r)+" 无效")
		}
	}
	if err := s.opt.Policy.Check(n.Password, n.Username); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return Account{}, "", apperr.New(apperr.Invalid, strings.Join(problems, "；"))
	}
	hash, err := password.Hash(n.Password)
	if err != nil {
		return Account{}, "", err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "zwfw 政务服务", AccountName: n.Username})
	if err != nil {
		return Account{}, "", err
	}
	sealed, err := s.opt.Keys.Seal(key.Secret(), ctxTOTP)
	if err != nil {
		return Account{}, "", err
	}
	var id int64
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		var deptName string
		if err := tx.QueryRow(ctx, `SELECT name FROM departments WHERE id = ?`, n.DepartmentID).Scan(&deptName); errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.Invalid, "所属部门不存在")
		} else if err != nil {
			return err
		}
		if err := checkAssistantDepartment(ctx, tx, n.DepartmentID, n.Roles); err != nil { // 帮办代办
			return err
		}
		err := tx.QueryRow(ctx, `INSERT INTO accounts (kind, name, username, password_hash, password_changed_at, totp_sealed,
			totp_required, department_id, created_at, updated_at) VALUES ('staff', ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			strings.TrimSpace(n.Name), n.Username, hash, now, sealed, true, n.DepartmentID, now, now).Scan(&id)
		if store.IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "用户名 "+n.Username+" 已被使用")
		}
		if err != nil {
			return err
		}
		if err := s.setRoles(ctx, tx, id, n.Roles); err != nil {
			return err
		}
		return s.auditBy(ctx, tx, who, "staff_create", fmt.Sprintf("account:%d", id),
			fmt.Sprintf("开设工作人员账户 %s（%s），角色：%s", n.Username, deptName, roleNames(n.Roles)), meta)
	})
	if err != nil {
		return Account{}, "", err
	}
	acc, err := s.Account(ctx, id)
	return acc, key.URL(), err
}

func roleNames(rs []policy.Role) string {
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name()
	}
	return strings.Join(names, "、")
}

func (s *Service) setRoles(ctx context.Context, tx *store.Tx, id int64, rs []policy.Role) error {
	if _, err := tx.Exec(ctx, `DELETE FROM staff_roles WHERE account_id = ?`, id); err != nil {
		return err
	}
	seen := map[policy.Role]bool{}
	for _, r := range rs {
		if seen[r] {
			continue
		}
		seen[r] = true
		if _, err := tx.Exec(ctx, `INSERT INTO staff_roles (account_id, role) VALUES (?, ?)`, id, r); err != nil {
			return err
		}
	}
	return nil
}

// accountsAdmin is the resource of opening, changing and stopping staff
// accounts: nobody's own (OwnerID -1), so that only administrators may,
// on their own account too — else a staff member could grant themselves
// roles.
var accountsAdmin = policy.Resource{Kind: policy.Account, OwnerID: -1}

// auditBy appends to the audit log in tx for who: a signed-in account is
// named from the database; a subject without one (the command line) by
// its own name.
func (s *Service) auditBy(ctx context.Context, tx *store.Tx, who policy.Subject, action, object, detail string, meta Meta) error {
	if who.AccountID != 0 || who.Name == "" {
		return s.audit(ctx, tx, who.AccountID, action, object, detail, meta)
	}
	return audit.Append(ctx, tx, audit.Entry{At: s.opt.Clock.Now(), Actor: who.Name, Action: action, Object: object, Detail: detail, IP: meta.IP})
}

// SetRoles replaces a staff member's roles, and records the change. Only
// administrators may.
func (s *Service) SetRoles(ctx context.Context, who policy.Subject, meta Meta, id int64, rs []policy.Role) error {
	if err := policy.Check(who, policy.Edit, accountsAdmin); err != nil {
		return err
	}
	for _, r := range rs {
		if r.Name() == "" {
			return apperr.New(apperr.Invalid, "角色 "+string(r)+" 无效")
		}
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		// Roles are for staff accounts only: a citizen's account never
		// gets staff powers, whoever asks.
		var kind string
		var dept sql.NullInt64
		if err := tx.QueryRow(ctx, `SELECT kind, department_id FROM accounts WHERE id = ?`, id).Scan(&kind, &dept); errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "账户不存在")
		} else if err != nil {
			return err
		}
		if kind != "staff" {
			return apperr.New(apperr.Invalid, "只能为工作人员账户分配角色，群众账户不能获得工作人员角色。")
		}
		if err := checkAssistantDepartment(ctx, tx, dept.Int64, rs); err != nil { // 帮办代办
			return err
		}
		before, err := roles(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.setRoles(ctx, tx, id, rs); err != nil {
			return err
		}
		slices.Sort(rs)
		return s.auditBy(ctx, tx, who, "role_change", fmt.Sprintf("account:%d", id),
			fmt.Sprintf("角色由「%s」改为「%s」", roleNames(before), roleNames(rs)), meta)
	})
}

// ResetPassword sets a new password for a staff member, signs them out
// everywhere and unlocks the account. Only administrators may (the
// command line acts as one).
func (s *Service) ResetPassword(ctx context.Context, who policy.Subject, meta Meta, username, newPassword string) error {
	if err := policy.Check(who, policy.Edit, accountsAdmin); err != nil {
		return err
	}
	if err := s.opt.Policy.Check(newPassword, username); err != nil {
		return apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	hash, err := password.Hash(newPassword)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE kind = 'staff' AND username = ?`, username).Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "没有用户名为 "+username+" 的工作人员")
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`,
			hash, s.opt.Clock.Now(), s.opt.Clock.Now(), id); err != nil {
			return err
		}
		if err := s.unlock(ctx, tx, s.staffKey(username)); err != nil {
			return err
		}
		if _, err := s.revokeOthers(ctx, tx, id, ""); err != nil {
			return err
		}
		return s.auditBy(ctx, tx, who, "password_reset", fmt.Sprintf("account:%d", id), "重置 "+username+" 的密码", meta)
	})
}

// ChangePassword changes one's own password after checking the current one
// (if any), and signs out every other session.
func (s *Service) ChangePassword(ctx context.Context, id int64, current, next, keepToken string, meta Meta) error {
	acc, err := s.Account(ctx, id)
	if err != nil {
		return err
	}
	if err := s.opt.Policy.Check(next, acc.Username, acc.Name); err != nil {
		return apperr.Wrap(apperr.Invalid, err.Error(), err)
	}
	hash, err := password.Hash(next)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var old string
		if err := tx.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = ?`, id).Scan(&old); err != nil {
			return err
		}
		if old != "" {
			ok, err := password.Verify(old, current)
			if err != nil {
				return err
			}
			if !ok {
				return apperr.New(apperr.Invalid, "当前密码不正确。")
			}
		}
		now := s.opt.Clock.Now()
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`, hash, now, now, id); err != nil {
			return err
		}
		if _, err := s.revokeOthers(ctx, tx, id, keepToken); err != nil {
			return err
		}
		return s.audit(ctx, tx, id, "password_change", fmt.Sprintf("account:%d", id), "修改密码并退出其他设备", meta)
	})
}

// Grounds is why staff may see an account's numbers: a thing of the
// account holder's they work on — a case they applied with — as the
// policy sees it, and its name for the audit record.
type Grounds struct {
	Resource policy.Resource
	Name     string // e.g. "办件 410411202611250000001"
}

// Reveal shows an account's identity number or mobile number unmasked to
// staff who may reveal personal data on the grounds given (policy.Reveal),
// which must be the account holder's, and records that they did — with
// the grounds and the reason, never the number.
func (s *Service) Reveal(ctx context.Context, who policy.Subject, accountID int64, field, reason string, on Grounds, meta Meta) (string, error) {
	if err := policy.Check(who, policy.Reveal, on.Resource); err != nil {
		return "", err
	}
	if on.Resource.OwnerID != accountID {
		return "", apperr.New(apperr.Forbidden, "只能查看本办件申请人的个人信息")
	}
	if strings.TrimSpace(reason) == "" {
		return "", apperr.New(apperr.Invalid, "查看完整个人信息须填写事由")
	}
	col, c := "id_number_sealed", ctxIDNumber
	if field == "mobile" {
		col, c = "mobile_sealed", ctxMobile
	} else if field != "id_number" {
		return "", apperr.New(apperr.Invalid, "只能查看身份证号码或手机号码")
	}
	var sealed sql.NullString
	if err := s.db.Read().QueryRow(ctx, `SELECT `+col+` FROM accounts WHERE id = ?`, accountID).Scan(&sealed); errors.Is(err, sql.ErrNoRows) || err == nil && !sealed.Valid {
		return "", apperr.New(apperr.NotFound, "没有该信息")
	} else if err != nil {
		return "", err
	}
	plain, err := s.opt.Keys.Open(sealed.String, c)
	if err != nil {
		return "", err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		return s.audit(ctx, tx, who.AccountID, "reveal", fmt.Sprintf("account:%d", accountID), "因"+on.Name+"查看完整"+map[string]string{"id_number": "身份证号码", "mobile": "手机号码"}[field]+"，事由："+reason, meta)
	})
	return plain, err
}

// Staff lists staff accounts, of one department or (0) all, by department
// and user name.
func (s *Service) Staff(ctx context.Context, departmentID int64) ([]Account, error) {
	q := `SELECT id FROM accounts WHERE kind = 'staff'`
	var args []any
	if departmentID != 0 {
		q += ` AND department_id = ?`
		args = append(args, departmentID)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY department_id, username`, args...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Account, 0, len(ids))
	for _, id := range ids {
		a, err := s.Account(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// SetDisabled stops or restores an account; stopping it ends its sessions.
// Only administrators may, and not on their own account.
func (s *Service) SetDisabled(ctx context.Context, who policy.Subject, meta Meta, id int64, disabled bool) error {
	if err := policy.Check(who, policy.Edit, accountsAdmin); err != nil {
		return err
	}
	if id == who.AccountID {
		return apperr.New(apperr.Invalid, "不能停用自己的账户。")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE accounts SET disabled = ?, updated_at = ? WHERE id = ?`, disabled, s.opt.Clock.Now(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "账户不存在")
		}
		action, detail := "account_enable", "恢复账户"
		if disabled {
			action, detail = "account_disable", "停用账户"
			if _, err := s.revokeOthers(ctx, tx, id, ""); err != nil {
				return err
			}
		}
		return s.auditBy(ctx, tx, who, action, fmt.Sprintf("account:%d", id), detail, meta)
	})
}
