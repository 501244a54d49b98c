-- The privacy notice (个人信息处理告知书) a citizen agreed to on
-- registering, by its version, and when: 个人信息保护法 第十七条 asks that
-- people be told before their data is handled, 第二十九条 separate consent
-- for sensitive data such as the 身份证号. '' for accounts opened before
-- the notice, at the counter (on paper) or by the provincial sign-in.
ALTER TABLE accounts ADD COLUMN privacy_version TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN privacy_consented_at TIMESTAMP;
