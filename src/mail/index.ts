/** Orderly's mail: `sendMail` through the dev outbox, Resend or Postmark, and merchant templates. */
export { DEV_OUTBOX_FROM, devOutboxProvider, isLocalDevelopment } from "./dev-outbox.provider";
export { formatMailbox, isEmailAddress, type Mailbox, normaliseMailbox, parseMailbox } from "./mail.address";
export {
  MAX_ATTACHMENT_BYTES,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  MAX_RECIPIENTS,
  MAX_SUBJECT_LENGTH,
  type MailAttachment,
  type MailProvider,
  type MailProviderId,
  type MailSendContext,
  type OutgoingEmail,
  oneLineSubject,
  outgoingEmailSchema,
  parseOutgoingEmail,
} from "./mail.types";
export { loadMailProvider, MAIL_CONNECTORS } from "./mail-connection";
export { describePostmarkError, type PostmarkEmailBody, postmarkEmailBody, postmarkProvider } from "./postmark.provider";
export { describeResendError, type ResendEmailBody, resendEmailBody, resendProvider } from "./resend.provider";
export { MAIL_TIMEOUT_MS, type SendMailInput, type SendMailResult, sendMail } from "./send-mail";
export { type SystemMailEnv, systemMailer } from "./system-mailer";
export {
  escapeHtml,
  type RenderOptions,
  renderTemplate,
  type TemplateValues,
  templatePlaceholders,
  validateTemplate,
} from "./templates";
