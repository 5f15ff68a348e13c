/**
 * Character classes of the RFC 3261 §25 grammar as lookup tables, so the
 * parsers test a char code with one array read instead of a regex.
 */

function table(chars: string, alnum = true): Uint8Array {
	const t = new Uint8Array(128);
	if (alnum) {
		for (let c = 0x30; c <= 0x39; c++) {
			t[c] = 1;
		}
		for (let c = 0x41; c <= 0x5a; c++) {
			t[c] = 1;
			t[c + 0x20] = 1;
		}
	}
	for (let i = 0; i < chars.length; i++) {
		t[chars.charCodeAt(i)] = 1;
	}
	return t;
}

const MARK = "-_.!~*'()";

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~");
/** user = 1*( unreserved / escaped / user-unreserved ) */
export const USER = table(MARK + '&=+$,;?/');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(MARK + '&=+$,');
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAM = table(MARK + '[]/:&+$');
/** hname / hvalue = *( hnv-unreserved / unreserved / escaped ) */
export const HNV = table(MARK + '[]/?:+$');
/** hostname characters (RFC 3261 domainlabel / toplabel). */
export const HOSTNAME = table('-.');
/** IPv6reference contents: hex digits, colons and a dotted IPv4 tail. */
export const IPV6 = table(':.');
/** RFC 3966 telephone-subscriber digits, separators and the global '+'. */
export const TEL = table('*#-.()+');
/** gen-value beyond token: host forms such as IPv6 references and bare IPv6 in received. */
export const GENVALUE = table("-.!%*_+`'~[]:");

export const SP = 0x20;
export const HT = 0x09;
export const CR = 0x0d;
export const LF = 0x0a;

export function isToken(s: string): boolean {
	if (s.length === 0) {
		return false;
	}
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c >= 128 || TOKEN[c] === 0) {
			return false;
		}
	}
	return true;
}

/** True when every char of s[from, to) is in the table (all ASCII). */
export function allIn(t: Uint8Array, s: string, from = 0, to = s.length): boolean {
	for (let i = from; i < to; i++) {
		const c = s.charCodeAt(i);
		if (c >= 128 || t[c] === 0) {
			return false;
		}
	}
	return true;
}

export function skipWs(s: string, i: number): number {
	while (i < s.length) {
		const c = s.charCodeAt(i);
		if (c !== SP && c !== HT) {
			break;
		}
		i++;
	}
	return i;
}

export function isDigits(s: string): boolean {
	if (s.length === 0) {
		return false;
	}
	for (let i = 0; i < s.length; i++) {
		const c = s.charCodeAt(i);
		if (c < 0x30 || c > 0x39) {
			return false;
		}
	}
	return true;
}

/** Labels of alphanumerics and '-', separated by single dots, an optional final dot. */
export function validHostname(s: string, from: number, to: number): boolean {
	if (from === to) {
		return false;
	}
	let prev = 0x2e; // as if after a dot: no leading '.' or '-'
	for (let i = from; i < to; i++) {
		const c = s.charCodeAt(i);
		if ((c === 0x2e || c === 0x2d) && prev === 0x2e) {
			return false;
		}
		if (c === 0x2e && prev === 0x2d) {
			return false;
		}
		prev = c;
	}
	return prev !== 0x2d;
}

/** Index just past the token starting at i (i itself when there is none). */
export function tokenEnd(s: string, i: number): number {
	while (i < s.length) {
		const c = s.charCodeAt(i);
		if (c >= 128 || TOKEN[c] === 0) {
			break;
		}
		i++;
	}
	return i;
}

/** Index just past the quoted-string opening at i, or -1 when it is not closed. */
export function quotedEnd(s: string, i: number): number {
	for (let j = i + 1; j < s.length; j++) {
		const c = s.charCodeAt(j);
		if (c === 0x5c /* \ */) {
			j++;
		} else if (c === 0x22 /* " */) {
			return j + 1;
		}
	}
	return -1;
}
