import type { ReactNode } from 'react';
import Link from 'next/link';
import { AdminTokenProvider } from '../components/admin-token';
import './globals.css';

// Every page reads the live database: nothing is rendered at build time.
export const dynamic = 'force-dynamic';

export const metadata = {
  title: { default: 'Chorus', template: '%s · Chorus' },
  description: 'Distributed ensemble training: live voting and diversity',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="topbar">
          <Link href="/" className="brand">
            Chorus
          </Link>
          <nav aria-label="Main">
            <ul>
              <li>
                <Link href="/">Runs</Link>
              </li>
              <li>
                <Link href="/workers">Workers</Link>
              </li>
              <li>
                <Link href="/compare">Compare</Link>
              </li>
              <li>
                <Link href="/runs/new" className="button">
                  New run
                </Link>
              </li>
            </ul>
          </nav>
        </header>
        <AdminTokenProvider>
          <main id="main">{children}</main>
        </AdminTokenProvider>
      </body>
    </html>
  );
}
