# shop.awk: the shop's engine, run by bin/shop as
#   awk -v cmd=total|receipt|stock|report -v coupon=CODE -f shop.awk CATALOG INPUT
#
# Money is kept in integer cents. Prices in the catalog are net; tax is
# added per line, rounded half up: 7% on food and books, 19% on the rest.
# "3for2" items: every third unit of a cart line (or order line) is free.
# Shipping is 4.95 when the cart is under 30.00 with tax, else free.
# Coupons: SAVE10 takes 10% off a total of 50.00 or more (before
# shipping), FREESHIP waives shipping.

BEGIN {
	FS = ","
	rate["food"] = 7; rate["books"] = 7; std_rate = 19
	ship_cost = 495; free_ship_from = 3000
	save10_from = 5000
	if (coupon != "" && coupon != "SAVE10" && coupon != "FREESHIP")
		die("unknown coupon '" coupon "'", 2)
}

function die(msg, code) {
	print "shop: error: " msg | "cat 1>&2"
	close("cat 1>&2")
	failed = code
	exit code
}

function where() {
	return (FILENAME == "-" ? "stdin" : FILENAME) ":" FNR
}

# Cents from "12.34", "12.3" or "12"; -1 when it is not a price.
function cents(s,    p) {
	if (s !~ /^[0-9]+(\.[0-9][0-9]?)?$/)
		return -1
	p = index(s, ".")
	if (!p)
		return s * 100
	return substr(s, 1, p - 1) * 100 + (length(s) - p == 1 ? substr(s, p + 1) * 10 : substr(s, p + 1) + 0)
}

# "1234.05" from 123405; with sep, thousands are grouped: "1,234.05".
function money(c, sep,    sign, whole, s) {
	sign = c < 0 ? "-" : ""
	if (c < 0)
		c = -c
	whole = sprintf("%.0f", int(c / 100))
	if (sep)
		while (whole ~ /[0-9][0-9][0-9][0-9]/) {
			match(whole, /[0-9][0-9][0-9]($|,)/)
			whole = substr(whole, 1, RSTART - 1) "," substr(whole, RSTART)
		}
	s = sprintf("%02d", c % 100)
	return sign whole "." s
}

function tax_of(amount, r) {
	return int((amount * r + 50) / 100)
}

function rate_of(sku) {
	return (cat[sku] in rate) ? rate[cat[sku]] : std_rate
}

# What qty units of sku cost, net, after the 3-for-2 promotion.
function amount_of(sku, qty) {
	return (qty - (promo[sku] == "3for2" ? int(qty / 3) : 0)) * price[sku]
}

# The catalog: the first file, with a header line.
NR == FNR {
	if (FNR == 1)
		next
	if (NF != 6 || cents($4) < 0 || $5 !~ /^[0-9]+$/)
		die(where() ": expected sku,name,category,price,stock,promo", 2)
	if ($1 in price)
		die(where() ": sku '" $1 "' listed twice", 2)
	skus[++nskus] = $1
	name[$1] = $2; cat[$1] = $3; price[$1] = cents($4); stock[$1] = $5 + 0; promo[$1] = $6
	next
}

# The cart or the orders.
{
	sub(/#.*/, "")
	n = split($0, f, " ")
	if (n == 0)
		next
	want = (cmd == "total" || cmd == "receipt") ? 2 : 3
	if (n != want)
		die(where() ": expected " (want == 2 ? "'SKU QTY'" : "'ORDER SKU QTY'") ", got '" $0 "'", 2)
	sku = f[want - 1]; qty = f[want]
	if (!(sku in price))
		die(where() ": unknown sku '" sku "'", 2)
	if (qty !~ /^[0-9]+$/ || qty + 0 == 0)
		die(where() ": quantity must be a positive whole number, got '" qty "'", 2)
	qty += 0
	if (want == 2) {
		if (!(sku in inCart))
			order[++nlines] = sku
		inCart[sku] += qty
	} else if (cmd == "stock") {
		if (qty > stock[sku])
			die(where() ": order " f[1] " wants " qty " of " sku ", only " stock[sku] " left", 3)
		stock[sku] -= qty; sold[sku] += qty
	} else {
		units[cat[sku]] += qty; revenue[cat[sku]] += amount_of(sku, qty)
	}
}

END {
	if (failed)
		exit failed
	if (cmd == "total" || cmd == "receipt")
		cart()
	else if (cmd == "stock")
		for (i = 1; i <= nskus; i++)
			printf "%s %d %d\n", skus[i], stock[skus[i]], sold[skus[i]]
	else
		report()
}

function cart(    i, sku, qty, amount, r, subtotal, tax, taxes, gross, ship, discount, total, free, items) {
	for (i = 1; i <= nlines; i++) {
		sku = order[i]; qty = inCart[sku]
		amount = amount_of(sku, qty); r = rate_of(sku)
		subtotal += amount; taxes[r] += tax_of(amount, r); items += qty
	}
	for (r in taxes)
		tax += taxes[r]
	gross = subtotal + tax
	ship = (items == 0 || gross >= free_ship_from || coupon == "FREESHIP") ? 0 : ship_cost
	discount = 0
	if (coupon == "SAVE10") {
		if (gross >= save10_from)
			discount = int((gross * 10 + 50) / 100)
		else
			print "shop: warning: coupon SAVE10 needs " money(save10_from) ", the cart is " money(gross) ": not applied" | "cat 1>&2"
	}
	total = gross + ship - discount
	if (cmd == "total") {
		printf "items %d\nsubtotal %s\ntax %s\nshipping %s\ndiscount %s\ntotal %s\n",
			items, money(subtotal), money(tax), money(ship), money(discount), money(total)
		return
	}
	rule = "=============================================="
	print "================ SHOP RECEIPT ================"
	for (i = 1; i <= nlines; i++) {
		sku = order[i]; qty = inCart[sku]
		free = promo[sku] == "3for2" ? int(qty / 3) : 0
		printf "%3d x %-20.20s @ %6s %10s\n", qty, name[sku], money(price[sku]), money(amount_of(sku, qty), 1)
		if (free)
			printf "      (3 for 2: %d free)\n", free
	}
	print "----------------------------------------------"
	printf "%-30s %15s\n", "Subtotal", money(subtotal, 1)
	for (r = 0; r <= 100; r++)
		if (r in taxes)
			printf "%-30s %15s\n", "Tax " r "%", money(taxes[r], 1)
	printf "%-30s %15s\n", "Shipping", money(ship, 1)
	if (discount)
		printf "%-30s %15s\n", "Coupon " coupon, money(-discount, 1)
	print rule
	printf "%-30s %15s\n", "TOTAL", money(total, 1)
}

# Categories by revenue, highest first, then by name.
function report(    c, n, i, j, k, t, tu, tr) {
	n = 0
	for (c in units)
		keys[++n] = c
	for (i = 2; i <= n; i++)
		for (j = i; j > 1; j--) {
			if (revenue[keys[j]] > revenue[keys[j - 1]] || \
			    (revenue[keys[j]] == revenue[keys[j - 1]] && keys[j] < keys[j - 1])) {
				t = keys[j]; keys[j] = keys[j - 1]; keys[j - 1] = t
			} else
				break
		}
	for (k = 1; k <= n; k++) {
		printf "%-12s %8d %14s\n", keys[k], units[keys[k]], money(revenue[keys[k]])
		tu += units[keys[k]]; tr += revenue[keys[k]]
	}
	printf "%-12s %8d %14s\n", "total", tu, money(tr)
}
