import { useEffect, useState } from 'react';
import { clearSession, getStoredUser, getToken, onUnauthorized } from './lib/api';
import type { User } from './lib/types';
import { Dashboard } from './Dashboard';
import { Login } from './components/Login';
import { InvitePage } from './components/InvitePage';

interface Session {
  token: string;
  user: User | null;
}

export function App() {
  const [session, setSession] = useState<Session | null>(() => {
    const token = getToken();
    return token ? { token, user: getStoredUser() } : null;
  });
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(
    () =>
      onUnauthorized(() => {
        clearSession();
        setSession((s) => {
          if (s) setNotice('Your session has ended. Please sign in again.');
          return null;
        });
      }),
    [],
  );

  // Another tab signing in or out applies here too.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key !== 'mc.token') return;
      const token = getToken();
      setSession(token ? { token, user: getStoredUser() } : null);
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  if (location.pathname === '/invite') {
    return <InvitePage onSignedIn={(token, user) => setSession({ token, user })} />;
  }
  if (!session) {
    return (
      <Login
        notice={notice}
        onSignedIn={(token, user) => {
          setNotice(null);
          setSession({ token, user });
        }}
      />
    );
  }
  return <Dashboard key={session.token} token={session.token} user={session.user} onSignOut={() => setSession(null)} />;
}
