export const PRODUCTS = ['book', 'mug', 'pen'] as const;

export type Product = (typeof PRODUCTS)[number];

export interface Order {
  id: number;
  product: Product;
  quantity: number;
  note?: string;
  createdAt: string;
}
