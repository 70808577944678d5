import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { MetricsService } from '../../lib/index.js';
import { PRODUCTS } from '../orders/order.js';

const ROWS = 8_000;
const ROWS_PER_CHUNK = 500;
const FIRST_DAY = Date.UTC(2025, 0, 1);

/** Generates the orders CSV export as a stream, one chunk at a time. */
@Injectable()
export class ReportsService {
  private readonly reportSize;

  constructor(private readonly metrics: MetricsService) {
    this.reportSize = metrics.histogram('report_size_bytes', {
      help: 'Size of completed report exports, in bytes.',
      buckets: [50_000, 100_000, 250_000, 500_000, 1_000_000],
    });
    // Declared up front for its help text and buckets; startTimer() below reuses
    // it, so its label names must be exactly the timer's.
    metrics.histogram('report_generation_seconds', {
      help: 'Time to generate a completed report export, in seconds.',
      labelNames: ['report'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5],
    });
  }

  /** Time and size are recorded when the whole report has been read. */
  exportOrders(): Readable {
    const stopTimer = this.metrics.startTimer('report_generation_seconds', {
      report: 'orders',
    });
    let row = 0;
    let bytes = 0;
    const stream = new Readable({
      read() {
        if (row >= ROWS) {
          this.push(null);
          return;
        }
        const lines = row === 0 ? ['id,product,quantity,created_at\n'] : [];
        for (const end = row + ROWS_PER_CHUNK; row < end; row++) {
          lines.push(csvLine(row));
        }
        const chunk = Buffer.from(lines.join(''));
        bytes += chunk.length;
        this.push(chunk);
      },
    });
    stream.once('end', () => {
      stopTimer();
      this.reportSize.observe(bytes);
    });
    return stream;
  }
}

function csvLine(row: number): string {
  const product = PRODUCTS[row % PRODUCTS.length];
  const quantity = (row % 7) + 1;
  const createdAt = new Date(FIRST_DAY + row * 60_000).toISOString();
  return `${row + 1},${product},${quantity},${createdAt}\n`;
}
