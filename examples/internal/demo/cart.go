package demo

import (
	"encoding/gob"
	"fmt"
)

// Product is something the demo shop sells.
type Product struct {
	ID    string
	Name  string
	Price int // cents
}

// PriceText is the price formatted for display.
func (p Product) PriceText() string { return money(p.Price) }

// Products is the demo catalogue.
var Products = []Product{
	{"tea", "Green tea", 450},
	{"coffee", "Coffee beans", 1290},
	{"mug", "Mug", 900},
}

func product(id string) (Product, bool) {
	for _, p := range Products {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

// Cart maps product ids to quantities. It is kept in the session, so
// gob must know it (gorilla and scs encode session values with gob).
type Cart map[string]int

func init() { gob.Register(Cart{}) }

// Add returns a copy of the cart with one more of the product; ok is false
// for an unknown product.
func (c Cart) Add(id string) (Cart, bool) {
	if _, ok := product(id); !ok {
		return c, false
	}
	out := make(Cart, len(c)+1)
	for k, v := range c {
		out[k] = v
	}
	out[id]++
	return out, true
}

// CartLine is one line of a cart as a page shows it.
type CartLine struct {
	Product  Product
	Quantity int
	Total    string
}

// Lines returns the cart's lines in catalogue order.
func (c Cart) Lines() []CartLine {
	var lines []CartLine
	for _, p := range Products {
		if n := c[p.ID]; n > 0 {
			lines = append(lines, CartLine{p, n, money(n * p.Price)})
		}
	}
	return lines
}

// Count is the number of items in the cart.
func (c Cart) Count() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Total is the cart's total price, formatted.
func (c Cart) Total() string {
	cents := 0
	for id, n := range c {
		if p, ok := product(id); ok {
			cents += n * p.Price
		}
	}
	return money(cents)
}

func money(cents int) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) }
