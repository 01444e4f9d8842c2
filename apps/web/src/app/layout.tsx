import type { Metadata, Viewport } from 'next';
import type { ReactNode } from 'react';
import Link from 'next/link';
import { Providers } from '@/components/Providers';
import { UserMenu } from '@/components/UserMenu';
import './globals.css';

export const metadata: Metadata = {
  title: 'Strata',
  description: 'Compose image scenes layer by layer and watch them paint live.',
};

export const viewport: Viewport = { width: 'device-width', initialScale: 1, colorScheme: 'dark' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <Providers>
          <header className="app-header">
            <Link href="/" className="brand">
              strata
            </Link>
            <span className="tagline">layered scene painter</span>
            <UserMenu />
          </header>
          <main id="main">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
