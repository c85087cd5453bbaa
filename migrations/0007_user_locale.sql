-- The user's language (zh-CN or en), as the web app names it: set at sign-up
-- from the web app's language (or the browser's Accept-Language), changeable
-- with PATCH /api/users/me, and the language of the user's email. Users from
-- before it get en, the language their email had so far.
ALTER TABLE chat_user ADD COLUMN locale varchar(10) NOT NULL DEFAULT 'en' AFTER role;
