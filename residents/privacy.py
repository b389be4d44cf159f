"""The privacy notice a resident accepts at sign-up (个人信息保护法 Art. 14, 17: purpose, manner,
kinds of data, retention, who sees it, the resident's rights). Its text is the template
residents/privacy.html; change the version whenever the text changes: the version and the
time of acceptance are stored for each resident (ResidentProfile)."""

PRIVACY_NOTICE_VERSION = "2026-12"
