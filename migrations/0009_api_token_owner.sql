ALTER TABLE `api_tokens` ADD `created_by` text;--> statement-breakpoint
-- Password-reset and invitation emails sent before one-time links were kept out of the outbox still
-- hold their links, which every member and API token of the tenant can read: keep only a note.
UPDATE `mail_outbox` SET `text` = 'A one-time link; not shown here, as it works for whoever holds it.', `html` = NULL WHERE `idempotency_key` LIKE 'password-reset/%' OR `idempotency_key` LIKE 'invite/%';
