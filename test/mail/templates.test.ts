import { describe, expect, it } from "vitest";
import { OrderlyError } from "../../src/domain/errors";
import { renderTemplate, templatePlaceholders, validateTemplate } from "../../src/mail/templates";

function thrown(run: () => unknown): OrderlyError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OrderlyError);
    return error as OrderlyError;
  }
  throw new Error("expected an error");
}

describe("email templates", () => {
  it("replaces dot-path placeholders, with spaces inside the braces tolerated", () => {
    const text = renderTemplate("Invoice {{order.number}} for {{ customer.name }}: {{order.total}} {{ order.currency}}", {
      "order.number": "#1001",
      "customer.name": "Ane Lund",
      "order.total": 249,
      "order.currency": "DKK",
    });
    expect(text).toBe("Invoice #1001 for Ane Lund: 249 DKK");
  });

  it("renders a known placeholder without a value as empty", () => {
    expect(renderTemplate("Ref: [{{order.reference}}]", { "order.reference": undefined })).toBe("Ref: []");
  });

  it("an unknown placeholder is an error that lists every one and what is available", () => {
    const error = thrown(() =>
      renderTemplate("Hi {{customer.nmae}}, order {{order.numbr}} {{order.numbr}}", {
        "customer.name": "Ane",
        "order.number": "1",
      }),
    );
    expect(error).toMatchObject({ errorClass: "validation", code: "template_invalid" });
    expect(error.message).toContain("unknown placeholders {{customer.nmae}}, {{order.numbr}}");
    expect(error.message).toContain("Available: {{customer.name}}, {{order.number}}");
    expect(error.details).toMatchObject({ unknown: ["customer.nmae", "order.numbr"] });
  });

  it("HTML output escapes values but keeps the template's own markup", () => {
    const html = renderTemplate(
      '<p title="{{customer.name}}">Dear {{customer.name}}</p>',
      { "customer.name": `<script>alert("x")</script> & 'co'` },
      { html: true },
    );
    expect(html).toBe(
      '<p title="&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;co&#39;">Dear &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;co&#39;</p>',
    );
    // Text output is left as is: a plain-text body is not HTML.
    expect(renderTemplate("{{a}}", { a: "<b>" })).toBe("<b>");
  });

  it("validateTemplate catches a merchant's typo when the template is saved", () => {
    const allowed = ["order.number", "customer.name"];
    expect(() => validateTemplate("Order {{ order.number }} for {{customer.name}}", allowed)).not.toThrow();
    expect(thrown(() => validateTemplate("Order {{order.nummer}}", allowed)).message).toContain("{{order.nummer}}");
  });

  it("malformed and unclosed placeholders are refused", () => {
    const allowed = ["order.number"];
    expect(thrown(() => validateTemplate("Order {{order number}}", allowed)).message).toContain(
      'malformed placeholders "{{order number}}"',
    );
    expect(thrown(() => validateTemplate("Order {{}}", allowed)).message).toContain("malformed");
    expect(thrown(() => validateTemplate("Order {{order.number} thanks", allowed)).message).toContain("{{order.number");
    // A lone `}}` is common in CSS and is not a placeholder.
    expect(() =>
      validateTemplate("<style>@media (max-width:600px){.x{display:none}}</style>{{order.number}}", allowed),
    ).not.toThrow();
  });

  it("lists the placeholders a template uses", () => {
    expect(templatePlaceholders("{{a.b}} {{ c }} {{a.b}}")).toEqual(["a.b", "c"]);
  });
});
